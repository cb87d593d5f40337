export * from './queue.consumer';
export * from './queue.error';
export * from './queue.module';
export * from './queue.repository';
export * from './queue.types';
export { redisOptions } from './redis-options';

export * from './archiver.processor';
export * from './queue.error';
export * from './queue.module';
export * from './queue.repository';
export * from './queue.types';
export { redisOptions, RedisRole } from './redis-options';
export * from './worker-options';
export * from './redis-throttler.storage';

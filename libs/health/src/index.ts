export * from './health.module';
export * from './health.service';
export * from './health.types';
export * from './public-route.decorator';

export * from './http-metrics';
export * from './metrics.module';
export * from './metrics.registry';
export * from './metrics.server';

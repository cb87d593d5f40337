export * from './prometheus.server';

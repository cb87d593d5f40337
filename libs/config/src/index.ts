export * from './app-config';
export * from './config.module';
export { configSchema } from './config.schema';
export * from './stack-settings';

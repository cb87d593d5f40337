export * from './repository-tracker';
export * from './tracking-limits';
export * from './tracking.error';
export * from './tracking.module';

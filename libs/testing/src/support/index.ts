export * from './close-all';
export * from './command-line-sampler';
export * from './read-all';
export * from './rejection-of';
export * from './secret-search';
export * from './tear-down';
export * from './wait-for';
export * from './ready-process';

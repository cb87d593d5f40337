export * from './close-all';
export * from './read-all';
export * from './rejection-of';
export * from './wait-for';
export * from './ready-process';

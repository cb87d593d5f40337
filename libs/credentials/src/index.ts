export * from './credential-cipher';
export * from './credential.error';
export * from './credential.types';
export * from './credentials.module';
export * from './credential-binding';

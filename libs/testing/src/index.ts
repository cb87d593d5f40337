export * from './git';
export * from './stack/api-client';
export * from './stack/app-process';
export * from './keycloak';
export * from './stack/private-services';
export * from './stack/stack-services';
export * from './browser';
export * from './dns';

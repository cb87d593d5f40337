export * from './keycloak-test.client';
export * from './token-forge';

export * from './chromium';
export * from './keycloak-login';
export * from './web-frontend';

export * from './browser-pages';
export * from './chromium';
export * from './keycloak-login';
export * from './user-api';
export * from './web-apps';
export * from './web-frontend';

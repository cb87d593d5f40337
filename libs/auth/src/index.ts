export { AuthError, AuthErrorCode } from './auth.error';
export { CurrentUser, Roles } from './auth.decorators';
export { AuthModule } from './auth.module';
export { ArchiverRole, type AuthenticatedRequest, type AuthUser, type VerifiedToken } from './auth.types';
export { KeycloakAuthGuard } from './keycloak-auth.guard';
export { KeycloakHealthIndicator } from './keycloak-health.indicator';
export { TokenVerifier, type TokenVerifierOptions } from './token-verifier';

export { AuthError, AuthErrorCode, type AuthErrorBody } from './auth.error';
export { CurrentUser, IS_PUBLIC_KEY, Public, REQUIRED_ROLES_KEY, Roles } from './auth.decorators';
export { AuthModule, type AuthModuleOptions } from './auth.module';
export {
  ArchiverRole,
  AUTH_USER_RESOLVER,
  type AuthenticatedRequest,
  type AuthUser,
  type AuthUserResolver,
  toAuthUser,
  type VerifiedToken,
} from './auth.types';
export { KeycloakAuthGuard } from './keycloak-auth.guard';
export { KeycloakHealthIndicator } from './keycloak-health.indicator';
export { TokenVerifier, type TokenVerifierOptions } from './token-verifier';

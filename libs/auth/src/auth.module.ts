import { APP_CONFIG, type AppConfig, ConfigModule } from '@archiver/config';
import { type DynamicModule, Module, type ModuleMetadata, type Provider, type Type } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AUTH_USER_RESOLVER, type AuthUserResolver } from './auth.types';
import { KeycloakAuthGuard } from './keycloak-auth.guard';
import { KeycloakHealthIndicator } from './keycloak-health.indicator';
import { TokenVerifier } from './token-verifier';

export interface AuthModuleOptions {
  /**
   * Accepts callers without an Authorization header, e.g. the web UI's session user.
   * Resolved inside AuthModule, so list in `imports` whatever module it depends on.
   */
  userResolver?: Type<AuthUserResolver>;
  imports?: ModuleMetadata['imports'];
}

const coreProviders: Provider[] = [
  { provide: TokenVerifier, inject: [APP_CONFIG], useFactory: (config: AppConfig) => new TokenVerifier(config.keycloak) },
  {
    provide: KeycloakHealthIndicator,
    inject: [APP_CONFIG],
    useFactory: (config: AppConfig) => new KeycloakHealthIndicator(config.keycloak),
  },
  { provide: APP_GUARD, useClass: KeycloakAuthGuard },
];

/**
 * Protects every HTTP route of the importing app with KeycloakAuthGuard. Import it once, in
 * the app module (`AuthModule` or `AuthModule.forRoot({ userResolver })`); use `@Public()`,
 * `@Roles()` and `@CurrentUser()` from '@archiver/auth' in controllers.
 */
@Module({
  imports: [ConfigModule],
  providers: coreProviders,
  exports: [TokenVerifier, KeycloakHealthIndicator],
})
export class AuthModule {
  static forRoot(options: AuthModuleOptions = {}): DynamicModule {
    const resolver: Provider[] = options.userResolver ? [{ provide: AUTH_USER_RESOLVER, useClass: options.userResolver }] : [];
    return {
      module: AuthModule,
      imports: [ConfigModule, ...(options.imports ?? [])],
      providers: [...coreProviders, ...resolver],
      exports: [TokenVerifier, KeycloakHealthIndicator],
    };
  }
}

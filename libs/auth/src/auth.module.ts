import { APP_CONFIG, type AppConfig, ConfigModule } from '@archiver/config';
import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { KeycloakAuthGuard } from './keycloak-auth.guard';
import { KeycloakHealthIndicator } from './keycloak-health.indicator';
import { TokenVerifier } from './token-verifier';

/**
 * Protects every HTTP route of the importing app with KeycloakAuthGuard. Import it once, in
 * the app module; mark open routes with `@Public()` from '@archiver/health', and use `@Roles()`
 * and `@CurrentUser()` from '@archiver/auth' in controllers.
 */
@Module({
  imports: [ConfigModule],
  providers: [
    { provide: TokenVerifier, inject: [APP_CONFIG], useFactory: (config: AppConfig) => new TokenVerifier(config.keycloak) },
    {
      provide: KeycloakHealthIndicator,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => new KeycloakHealthIndicator(config.keycloak),
    },
    { provide: APP_GUARD, useClass: KeycloakAuthGuard },
  ],
  exports: [TokenVerifier, KeycloakHealthIndicator],
})
export class AuthModule {}

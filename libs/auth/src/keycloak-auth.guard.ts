import { type CanActivate, type ExecutionContext, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Response } from 'express';
import { IS_PUBLIC_KEY } from '@archiver/health';
import { REQUIRED_ROLES_KEY } from './auth.decorators';
import { AuthError, AuthErrorCode } from './auth.error';
import { ArchiverRole, type AuthenticatedRequest, type AuthUser, toAuthUser } from './auth.types';
import { TokenVerifier } from './token-verifier';

const BEARER = /^Bearer +([^\s]+) *$/i;

/**
 * The app-wide HTTP guard (registered as APP_GUARD by AuthModule): every route needs a signed-in
 * user with realm role `archiver-user` unless marked `@Public()` (from libs/health); `@Roles()` asks for more.
 * Missing or bad credentials → 401 with `WWW-Authenticate`; missing role → 403.
 */
@Injectable()
export class KeycloakAuthGuard implements CanActivate {
  private readonly logger = new Logger(KeycloakAuthGuard.name);

  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: TokenVerifier,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC_KEY, targets)) return true;
    // Only HTTP is served; refusing other transports keeps a future one from being open by accident.
    if (context.getType() !== 'http') return false;

    const http = context.switchToHttp();
    const request = http.getRequest<AuthenticatedRequest>();
    const response = http.getResponse<Response>();
    try {
      const user = await this.authenticate(request);
      this.authorize(user, this.reflector.getAllAndMerge<string[]>(REQUIRED_ROLES_KEY, targets) ?? []);
      request.user = user;
      return true;
    } catch (error) {
      throw this.answer(error, response, request.headers.authorization !== undefined);
    }
  }

  private async authenticate(request: AuthenticatedRequest): Promise<AuthUser> {
    const header = request.headers.authorization;
    if (header === undefined) {
      throw AuthError.unauthenticated(
        `Sign in first: send \`Authorization: Bearer <access token>\` with a token from Keycloak realm "${this.verifier.realm}".`,
      );
    }
    const token = BEARER.exec(header)?.[1];
    if (!token) {
      throw AuthError.unauthenticated('The Authorization header must read `Bearer <access token>` (one space, no quotes).');
    }
    return toAuthUser(await this.verifier.verify(token));
  }

  private authorize(user: AuthUser, extraRoles: string[]): void {
    const missing = [ArchiverRole.USER, ...extraRoles].filter((role) => !user.roles.includes(role));
    if (missing.length > 0) {
      throw AuthError.forbidden(
        `Your account (${user.username}) lacks the role ${missing.join(', ')} needed here; ask an administrator to grant it, then sign in again.`,
      );
    }
  }

  private answer(error: unknown, response: Response, credentialsSent: boolean): unknown {
    if (!(error instanceof AuthError)) return error;
    if (error.code === AuthErrorCode.UNAUTHENTICATED) {
      // RFC 6750 §3: a 401 names the scheme and realm, plus error="invalid_token" when a token was presented.
      const challenge = `Bearer realm="${this.verifier.realm}"`;
      response.setHeader('WWW-Authenticate', credentialsSent ? `${challenge}, error="invalid_token"` : challenge);
    } else if (error.code === AuthErrorCode.UNAVAILABLE) {
      this.logger.error(`${error.message} ${describeCause(error.cause)}`);
    }
    return error;
  }
}

function describeCause(cause: unknown): string {
  const parts: string[] = [];
  for (let c = cause; c instanceof Error; c = c.cause) parts.push(c.message);
  return parts.length > 0 ? `(${parts.join(': ')})` : '';
}

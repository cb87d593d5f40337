import { Injectable, Logger, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { ArchiverRole, TokenVerifier } from '@archiver/auth';
import { boardTokenFrom } from './queue-board.cookie';

/**
 * Lets only archiver-admin reach bull-board (mounted by @nestjs/bullmq's board module as Express
 * middleware, so the app's Nest guard does not run there). The cookie's token is checked exactly
 * like a bearer token (TokenVerifier: signature, issuer, expiry). A page load without a valid
 * one goes through the web app, which signs in (or reuses the Keycloak session) and comes back;
 * the board's own API calls get a plain 401/403.
 */
@Injectable()
export class QueueBoardAuthMiddleware implements NestMiddleware {
  private readonly logger = new Logger(QueueBoardAuthMiddleware.name);
  private readonly headers = queueBoardSecurityHeaders();

  constructor(private readonly verifier: TokenVerifier) {}

  async use(request: Request, response: Response, next: NextFunction): Promise<void> {
    response.set(this.headers);
    const token = boardTokenFrom(request.headers.cookie);
    const page = request.method === 'GET' && (request.headers.accept ?? '').includes('text/html');
    if (!token)
      return this.refuse(response, page, 401, 'Open the queue dashboard from the Admin page of the web interface (it signs you in).');
    let roles: string[];
    try {
      roles = (await this.verifier.verify(token)).roles;
    } catch (error) {
      this.logger.debug({ msg: 'queue board token refused', error: (error as Error).message });
      return this.refuse(response, page, 401, 'Your dashboard sign-in expired; open it again from the Admin page.');
    }
    if (!roles.includes(ArchiverRole.ADMIN))
      return this.refuse(response, false, 403, 'The queue dashboard is for the role archiver-admin only.');
    next();
  }

  private refuse(response: Response, page: boolean, status: 401 | 403, message: string): void {
    // A page load returns through the web app, which renews the cookie and comes back.
    if (page) return response.redirect(303, '/admin?board=open');
    response.status(status).json({ error: { code: status === 401 ? 'UNAUTHENTICATED' : 'FORBIDDEN', message } });
  }
}

/**
 * bull-board's page is a React bundle served from this origin with inline style attributes
 * and `<base href>`: scripts stay same-origin, styles may be inline (they restyle, they do not
 * run code), nothing may frame it.
 */
export function queueBoardSecurityHeaders(): Record<string, string> {
  const policy = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "object-src 'none'",
  ].join('; ');
  return {
    'Content-Security-Policy': policy,
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-store',
  };
}

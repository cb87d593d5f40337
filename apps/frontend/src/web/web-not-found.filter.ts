import { type ArgumentsHost, Catch, type ExceptionFilter, NotFoundException } from '@nestjs/common';
import type { Request, Response } from 'express';
import { WebShellService } from './web-shell.service';

/**
 * A person who follows a broken link or mistypes an address gets the web interface's own
 * "Page not found" (the shell, answered with status 404; the single-page app's router draws
 * the page) instead of the API's JSON. Only browser navigations outside /api: programs,
 * and every /api path, keep the JSON 404 of the filter this one falls back to.
 */
@Catch(NotFoundException)
export class WebNotFoundFilter implements ExceptionFilter {
  constructor(
    private readonly shell: WebShellService,
    private readonly fallback: ExceptionFilter,
  ) {}

  catch(exception: NotFoundException, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    if (res.headersSent || !isBrowserNavigation(req)) return this.fallback.catch(exception, host);
    const html = this.shell.page(res);
    res.status(404).send(html);
  }
}

/** GET/HEAD outside /api from something that prefers HTML over JSON (a browser's address bar or link). */
export function isBrowserNavigation(req: Pick<Request, 'method' | 'path' | 'accepts'>): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  if (/^\/api(\/|$)/i.test(req.path)) return false;
  // `*/*` alone (curl, fetch) picks the first: JSON. Browsers name text/html explicitly.
  return req.accepts(['application/json', 'text/html']) === 'text/html';
}

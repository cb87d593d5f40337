import type { ArgumentsHost, ExceptionFilter } from '@nestjs/common';
import { NotFoundException } from '@nestjs/common';
import express, { type Request } from 'express';
import { isBrowserNavigation, WebNotFoundFilter } from './web-not-found.filter';
import type { WebShellService } from './web-shell.service';

const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';

/** A real Express request (its `accepts` reads the headers) without a socket. */
function request(method: string, url: string, accept?: string): Request {
  const req = Object.create(express.request) as Request;
  Object.assign(req, { method, url, originalUrl: url, headers: accept === undefined ? {} : { accept } });
  return req;
}

describe(WebNotFoundFilter.name, () => {
  describe(isBrowserNavigation.name, () => {
    it.each([
      ['GET', '/nope', BROWSER_ACCEPT],
      ['HEAD', '/archives/x/y', BROWSER_ACCEPT],
      ['GET', '/apis', 'text/html'],
      ['GET', '/deep/path?q=1', 'text/html;q=0.9, application/json;q=0.5'],
    ])('treats %s %s (Accept: %s) as a browser navigation', (method, url, accept) => {
      expect(isBrowserNavigation(request(method, url, accept))).toBe(true);
    });

    it.each([
      ['GET', '/api/nope', BROWSER_ACCEPT],
      ['GET', '/api', BROWSER_ACCEPT],
      ['GET', '/API/archives/x/y', BROWSER_ACCEPT],
      ['POST', '/nope', BROWSER_ACCEPT],
      ['GET', '/nope', '*/*'],
      ['GET', '/nope', undefined],
      ['GET', '/nope', 'application/json'],
      ['GET', '/nope', 'application/json, text/html;q=0.5'],
    ])('leaves %s %s (Accept: %s) to the JSON answer', (method, url, accept) => {
      expect(isBrowserNavigation(request(method, url, accept))).toBe(false);
    });
  });

  function harness(req: Request) {
    const sent: { status?: number; body?: unknown } = {};
    const res = {
      headersSent: false,
      status(code: number) {
        sent.status = code;
        return this;
      },
      send(body: unknown) {
        sent.body = body;
        return this;
      },
    };
    const host = { switchToHttp: () => ({ getRequest: () => req, getResponse: () => res }) } as unknown as ArgumentsHost;
    const shell = { page: jest.fn(() => '<html>shell</html>') };
    const fallback: ExceptionFilter = { catch: jest.fn() };
    const sut = new WebNotFoundFilter(shell as unknown as WebShellService, fallback);
    return { sut, host, sent, shell, fallback };
  }

  it('answers a browser navigation with the app shell and status 404', () => {
    const { sut, host, sent, fallback } = harness(request('GET', '/nope', BROWSER_ACCEPT));

    sut.catch(new NotFoundException('Cannot GET /nope'), host);

    expect(sent).toEqual({ status: 404, body: '<html>shell</html>' });
    expect(fallback.catch).not.toHaveBeenCalled();
  });

  it('hands everything else to the fallback filter (the JSON error)', () => {
    const { sut, host, sent, shell, fallback } = harness(request('GET', '/api/nope', BROWSER_ACCEPT));
    const error = new NotFoundException('Cannot GET /api/nope');

    sut.catch(error, host);

    expect(fallback.catch).toHaveBeenCalledWith(error, host);
    expect(shell.page).not.toHaveBeenCalled();
    expect(sent).toEqual({});
  });
});

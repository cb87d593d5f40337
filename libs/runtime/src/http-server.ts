import { createServer } from 'node:http';
import type { NestApplicationOptions } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import type { AppConfig } from '@archiver/config';
import { answerClientError } from './client-error';

export type HttpTimeouts = AppConfig['http']['timeouts'];

/**
 * How often Node checks the headers and request timeouts of open connections. Its default,
 * 30 s, would let a slow client keep a connection up to 30 s past either bound; at 1 s the
 * bounds hold to about a second, for a scan of the open connections that costs little.
 */
const TIMEOUT_CHECK_INTERVAL_MS = 1000;

/**
 * Nest's Express adapter, with a Node HTTP server whose connection bounds are chosen rather
 * than inherited (Node's defaults hold a silent or dribbling client for up to 300 s):
 * - headersTimeout (HTTP_HEADERS_TIMEOUT_SECONDS, 10 s): a real client sends its headers in
 *   one go; a slow-loris client that dribbles them byte by byte is cut off here.
 * - requestTimeout (HTTP_REQUEST_TIMEOUT_SECONDS, 30 s): the whole request, body included.
 *   Bodies are at most 64 KiB, so 30 s is ample even on a poor link, and a client that
 *   declares a body and dribbles it (or never sends it) is answered 408 and dropped.
 * - idle timeout (HTTP_IDLE_TIMEOUT_SECONDS, 15 s): a connection on which nothing moves for
 *   this long while a request is open is destroyed, whatever the other bounds say.
 * - keepAliveTimeout (HTTP_KEEP_ALIVE_TIMEOUT_SECONDS, 65 s): an idle kept-alive connection
 *   between requests. Longer than the 60 s idle timeout common to load balancers, so the
 *   proxy, not this server, closes a pooled connection, and never sends a request into one
 *   this server is closing (which the client would see as a 502).
 * The check interval is a constructor-only option of Node's server, hence the subclass.
 */
export class BoundedExpressAdapter extends ExpressAdapter {
  constructor(private readonly timeouts: HttpTimeouts) {
    super();
  }

  override initHttpServer(options: NestApplicationOptions): void {
    // Nest's own server options would need the parts of ExpressAdapter this replaces.
    if (options.httpsOptions || options.forceCloseConnections || options.return503OnClosing) {
      throw new Error('BoundedExpressAdapter does not support httpsOptions, forceCloseConnections or return503OnClosing');
    }
    const { headersMs, requestMs, idleMs, keepAliveMs } = this.timeouts;
    const server = createServer(
      {
        headersTimeout: headersMs,
        requestTimeout: requestMs,
        keepAliveTimeout: keepAliveMs,
        connectionsCheckingInterval: Math.min(TIMEOUT_CHECK_INTERVAL_MS, headersMs),
      },
      this.getInstance(),
    );
    // Without a 'timeout' listener Node destroys the idle socket.
    server.setTimeout(idleMs);
    server.on('clientError', answerClientError);
    this.httpServer = server;
  }
}

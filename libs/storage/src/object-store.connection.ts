import * as http from 'node:http';
import * as https from 'node:https';
import { StorageError, StorageErrorCode } from './storage.error';

// MinIO closes keep-alive connections idle for 30 s (internal/http/server.go DefaultIdleTimeout);
// dropping ours earlier avoids reusing a socket the server is closing (ECONNRESET).
const FREE_SOCKET_TIMEOUT_MS = 15_000;

/** A pooled keep-alive agent: uploads of many small files reuse connections instead of reconnecting. */
export function keepAliveAgent(useSSL: boolean, maxSockets: number): http.Agent {
  const options = { keepAlive: true, maxSockets, timeout: FREE_SOCKET_TIMEOUT_MS };
  return useSSL ? new https.Agent(options) : new http.Agent(options);
}

export function parseEndpoint(endpoint: string): URL {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new StorageError(StorageErrorCode.INVALID, `Object store endpoint "${endpoint}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new StorageError(StorageErrorCode.INVALID, `Object store endpoint must be http(s), got ${url.protocol}`);
  }
  // minio-js addresses the server root; a path would be silently dropped.
  if (url.pathname !== '/' || url.search) {
    throw new StorageError(StorageErrorCode.INVALID, `Object store endpoint must not have a path: ${endpoint}`);
  }
  return url;
}

/**
 * minio-js has no request timeout, so a stalled server would hang a worker forever. This
 * bounds connecting plus waiting for the response head; the body is then left alone so
 * slow readers of a download are not cut off.
 */
export function withRequestTimeout(base: typeof http | typeof https, timeoutMs: number): Pick<typeof http, 'request'> {
  const request = (options: http.RequestOptions, callback?: (response: http.IncomingMessage) => void) => {
    const req = (base.request as typeof http.request)(options, (response) => {
      req.setTimeout(0);
      callback?.(response);
    });
    req.setTimeout(timeoutMs, () => {
      const error = Object.assign(new Error(`no answer from object store within ${timeoutMs} ms`), { code: 'ETIMEDOUT' });
      req.destroy(error);
    });
    return req;
  };
  return { request: request as typeof http.request };
}

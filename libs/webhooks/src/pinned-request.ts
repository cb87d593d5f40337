import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { VettedTarget } from './webhook-sender';

/** Resolves every name to the one vetted address: DNS cannot answer differently between the check and the connection. */
export function pinnedLookup(pinned: { address: string; family: 4 | 6 }): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all) (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [pinned]);
    else callback(null, pinned.address, pinned.family);
  };
}

export interface PinnedGetOptions {
  headers: Record<string, string>;
  timeoutMs: number;
  /** The body is cut off (and the request fails) past this many bytes. */
  maxBytes: number;
  signal?: AbortSignal;
}

export interface PinnedResponse {
  statusCode: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** Why a pinned GET got no usable answer: no address, network, timeout, or a body over the limit. */
export class PinnedRequestError extends Error {
  constructor(
    readonly reason: 'network' | 'timeout' | 'too_large' | 'aborted',
    message: string,
  ) {
    super(message);
  }
}

/**
 * GETs a vetted target once, connecting only to its first vetted address (the Host header and
 * TLS server name stay the URL's). Redirects are not followed, no proxy is used, the whole
 * exchange has a deadline and the body a size cap.
 */
export function getPinned(target: VettedTarget, options: PinnedGetOptions): Promise<PinnedResponse> {
  const pinned = target.addresses[0];
  if (!pinned) return Promise.reject(new PinnedRequestError('network', 'no vetted address to connect to'));
  const client = target.url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (error: PinnedRequestError | null, response?: PinnedResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      if (error) {
        request.destroy();
        reject(error);
      } else resolve(response!);
    };
    const onAbort = () => finish(new PinnedRequestError('aborted', 'the request was cancelled'));
    const request = client.request(target.url, {
      method: 'GET',
      lookup: pinnedLookup(pinned),
      agent: false,
      headers: { Accept: 'application/json', 'User-Agent': 'repository-archiver', ...options.headers },
    });
    const timer = setTimeout(
      () => finish(new PinnedRequestError('timeout', `no complete answer within ${options.timeoutMs / 1000} s`)),
      options.timeoutMs,
    );
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) onAbort();
    request.on('error', (error: NodeJS.ErrnoException) =>
      finish(new PinnedRequestError('network', `${error.code ?? 'error'}: ${error.message}`)),
    );
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > options.maxBytes) finish(new PinnedRequestError('too_large', `the answer is larger than ${options.maxBytes} bytes`));
        else chunks.push(chunk);
      });
      response.on('error', (error) => finish(new PinnedRequestError('network', `the answer broke off: ${error.message}`)));
      response.on('end', () =>
        finish(null, { statusCode: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }),
      );
    });
    request.end();
  });
}

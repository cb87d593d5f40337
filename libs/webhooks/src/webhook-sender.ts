import http from 'node:http';
import https from 'node:https';
import type { AttemptOutcome } from './delivery-state';
import { pinnedLookup } from './pinned-request';

/** A target whose addresses the URL policy vetted: the request connects only to those. */
export interface VettedTarget {
  url: URL;
  addresses: readonly { address: string; family: 4 | 6 }[];
}

/** What the answer may hold that we keep: a receiver's body is not our business beyond a hint. */
const MAX_ERROR_BODY_CHARS = 200;

/**
 * POSTs the body once. The connection goes to the first vetted address (the name is not
 * resolved again, so DNS cannot answer differently between the check and the connection);
 * the Host header and the TLS server name stay the URL's. Redirects are not followed (a 3xx
 * is a failed attempt); no proxy. Any answer but 2xx, a network error or `timeoutMs` passing
 * is a failure, with the status and a reason.
 */
export function postOnce(target: VettedTarget, body: Buffer, headers: Record<string, string>, timeoutMs: number): Promise<AttemptOutcome> {
  const pinned = target.addresses[0];
  if (!pinned) return Promise.resolve({ ok: false, statusCode: null, error: 'no vetted address to connect to', permanent: true });
  const lookup = pinnedLookup(pinned);
  const client = target.url.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (outcome: AttemptOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const request = client.request(target.url, {
      method: 'POST',
      lookup,
      agent: false,
      headers: {
        ...headers,
        'Content-Type': 'application/json',
        'Content-Length': String(body.length),
        'User-Agent': 'repository-archiver-webhooks',
      },
    });
    const timer = setTimeout(() => {
      finish({ ok: false, statusCode: null, error: `no answer within ${timeoutMs / 1000} s` });
      request.destroy();
    }, timeoutMs);
    request.on('error', (error: NodeJS.ErrnoException) =>
      finish({ ok: false, statusCode: null, error: `${error.code ?? 'error'}: ${error.message}` }),
    );
    request.on('response', (response) => {
      const statusCode = response.statusCode ?? 0;
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        if (text.length < MAX_ERROR_BODY_CHARS) text += chunk.slice(0, MAX_ERROR_BODY_CHARS - text.length);
      });
      response.on('error', (error) => finish({ ok: false, statusCode, error: `the answer broke off: ${error.message}` }));
      response.on('end', () => {
        if (statusCode >= 200 && statusCode <= 299) finish({ ok: true, statusCode });
        else finish({ ok: false, statusCode, error: describeStatus(statusCode, response.headers.location, text) });
      });
    });
    request.end(body);
  });
}

function describeStatus(statusCode: number, location: string | undefined, text: string): string {
  if (statusCode >= 300 && statusCode <= 399)
    return `HTTP ${statusCode}: redirects are not followed${location ? ` (to ${location.slice(0, 200)})` : ''}`;
  const hint = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return hint ? `HTTP ${statusCode}: ${hint}` : `HTTP ${statusCode}`;
}

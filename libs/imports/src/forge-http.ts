import type { IncomingHttpHeaders } from 'node:http';
import { UrlPolicy } from '@archiver/git';
import { getPinned, PinnedRequestError, vetRequestUrl } from '@archiver/webhooks';
import { ImportError, ImportErrorCode } from './import.error';

export interface ForgeResponse {
  statusCode: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** One GET; the default vets the URL with the URL policy and connects to the vetted address only. */
export type ForgeTransport = (url: URL, headers: Record<string, string>, signal?: AbortSignal) => Promise<ForgeResponse>;

export interface ForgeHttpLimits {
  timeoutMs: number;
  maxResponseBytes: number;
  maxPages: number;
}

/** A page of JSON, or null for a 404 (the caller decides: try the user instead of the organization, or FORGE_NOT_FOUND). */
export interface ForgePage {
  json: unknown;
  headers: IncomingHttpHeaders;
}

/** The transport of real imports: the URL policy on every request (the first page and every next page alike). */
export function guardedTransport(policy: UrlPolicy, limits: ForgeHttpLimits): ForgeTransport {
  return async (url, headers, signal) => {
    const target = await vetRequestUrl(policy, url.href, 'forge API URL');
    try {
      return await getPinned(target, { headers, timeoutMs: limits.timeoutMs, maxBytes: limits.maxResponseBytes, signal });
    } catch (error) {
      if (!(error instanceof PinnedRequestError)) throw error;
      if (error.reason === 'too_large') {
        throw new ImportError(
          ImportErrorCode.FORGE_RESPONSE_TOO_LARGE,
          `${url.origin}${url.pathname}: ${error.message} (IMPORT_MAX_RESPONSE_BYTES)`,
        );
      }
      throw new ImportError(ImportErrorCode.FORGE_UNAVAILABLE, `${url.origin}${url.pathname} did not answer: ${error.message}`);
    }
  };
}

/**
 * Pages through a forge's listing. Every next-page URL must stay on the first page's origin
 * (scheme, host and port): the token goes with each request and must never reach another host.
 * More than `maxPages` pages fails rather than running on.
 */
export class ForgePager {
  constructor(
    private readonly transport: ForgeTransport,
    private readonly maxPages: number,
  ) {}

  async get(url: URL, headers: Record<string, string>, signal?: AbortSignal): Promise<ForgePage | null> {
    const response = await this.transport(url, headers, signal);
    const where = `${url.origin}${url.pathname}`;
    const status = response.statusCode;
    if (status === 404) return null;
    if (status === 401 || (status === 403 && !rateLimited(response.headers))) {
      throw new ImportError(
        ImportErrorCode.FORGE_AUTH_FAILED,
        `${where} refused the request (HTTP ${status}): give a token that may read this owner's repositories, or check that it has not expired`,
      );
    }
    if (status === 403 || status === 429 || status >= 500) {
      throw new ImportError(ImportErrorCode.FORGE_UNAVAILABLE, `${where} answered HTTP ${status}; the import is tried again later`);
    }
    if (status < 200 || status > 299) {
      const redirect = status >= 300 && status <= 399 ? ' (redirects are not followed: give the final base URL)' : '';
      throw new ImportError(ImportErrorCode.FORGE_RESPONSE_INVALID, `${where} answered HTTP ${status}${redirect}`);
    }
    try {
      return { json: JSON.parse(response.body.toString('utf8')), headers: response.headers };
    } catch {
      throw new ImportError(ImportErrorCode.FORGE_RESPONSE_INVALID, `${where} did not answer JSON: is ${url.origin} the forge's base URL?`);
    }
  }

  /**
   * Every page's array, in order, starting at `first`. `next` gives the following page's URL
   * (from a `Link` header, or a page counter) or null at the end.
   */
  async *pages(
    first: URL,
    headers: Record<string, string>,
    next: (page: ForgePage, items: unknown[], url: URL) => URL | null,
    signal?: AbortSignal,
    firstPage?: ForgePage,
  ): AsyncGenerator<unknown[]> {
    let url: URL | null = first;
    let fetched = firstPage ?? null;
    for (let count = 1; url !== null; count++) {
      if (count > this.maxPages) {
        throw new ImportError(
          ImportErrorCode.IMPORT_TOO_MANY_PAGES,
          `${first.origin}${first.pathname} has more than ${this.maxPages} pages of repositories (IMPORT_MAX_PAGES); narrow the import or raise the limit`,
        );
      }
      const page = fetched ?? (await this.get(url, headers, signal));
      fetched = null;
      if (page === null) throw new ImportError(ImportErrorCode.FORGE_NOT_FOUND, `${url.origin}${url.pathname} answered 404 while paging`);
      if (!Array.isArray(page.json)) {
        throw new ImportError(ImportErrorCode.FORGE_RESPONSE_INVALID, `${url.origin}${url.pathname} did not answer a list of repositories`);
      }
      yield page.json;
      const following = next(page, page.json, url);
      if (following !== null && following.origin !== first.origin) {
        throw new ImportError(
          ImportErrorCode.FORGE_RESPONSE_INVALID,
          `${first.origin} pointed its next page at ${following.origin}; the token is only ever sent to ${first.origin}`,
        );
      }
      url = following;
    }
  }
}

/** GitHub answers 403 (not 429) when the rate limit is used up. */
function rateLimited(headers: IncomingHttpHeaders): boolean {
  return headers['x-ratelimit-remaining'] === '0' || headers['retry-after'] !== undefined;
}

/** The `rel="next"` target of an RFC 8288 `Link` header, resolved against the page's URL. */
export function nextLink(headers: IncomingHttpHeaders, base: URL): URL | null {
  const link = headers.link;
  if (typeof link !== 'string') return null;
  for (const part of link.split(',')) {
    const match = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
    if (!match) continue;
    const rels = /\brel\s*=\s*"?([^";]*)"?/i.exec(match[2])?.[1]?.toLowerCase().split(/\s+/) ?? [];
    if (!rels.includes('next')) continue;
    try {
      return new URL(match[1], base);
    } catch {
      throw new ImportError(ImportErrorCode.FORGE_RESPONSE_INVALID, `${base.origin} sent a malformed next-page link`);
    }
  }
  return null;
}

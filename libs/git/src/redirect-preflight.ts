import { request as httpRequest, IncomingMessage, RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { GitError, GitErrorCode } from './git.error';
import type { ResolvedAddress, UrlPolicy, VettedRepositoryUrl } from './url-policy';

const INFO_REFS = '/info/refs';
const INFO_REFS_QUERY = '?service=git-upload-pack';

/** What git would read before it asks for objects; far above any real repository's. */
export const DEFAULT_MAX_ADVERTISEMENT_BYTES = 64 * 1024 * 1024;

export interface PreflightOptions {
  readonly policy: UrlPolicy;
  /**
   * Aborts the whole preflight (the clone's deadline or the caller); its reason is rethrown as
   * is, so a server that never answers ends the way the deadline says (TIMED_OUT).
   */
  readonly signal: AbortSignal;
  /** Optional tighter bound on each single request; by default only `signal` bounds them. */
  readonly requestTimeoutMs?: number;
  readonly maxRedirects: number;
  /** The ref advertisement is read to its end, up to this many bytes. */
  readonly maxAdvertisementBytes?: number;
  /** HTTP basic auth, sent only to requests on `origin` (never to a redirect's other host). */
  readonly credential?: { readonly origin: string; readonly username: string; readonly password: string };
}

interface ProbeAnswer {
  readonly status: number;
  readonly location?: string;
  readonly retryAfter?: string;
}

/**
 * Asks the server for the ref advertisement the way git would, without letting anything follow
 * redirects on its own: each hop is checked against the policy before it is contacted, and the
 * connection goes to the addresses that were vetted (so DNS cannot change its answer in between).
 * Returns where git should clone from. Also turns 401/403/404 into clear errors before git runs.
 */
export async function preflightRepository(start: VettedRepositoryUrl, options: PreflightOptions): Promise<VettedRepositoryUrl> {
  let current = start;
  for (let hop = 0; ; hop++) {
    const infoRefs = new URL(`${current.url.replace(/\/+$/, '')}${INFO_REFS}${INFO_REFS_QUERY}`);
    const { status, location, retryAfter } = await probe(infoRefs, current.addresses, options);
    if (status >= 200 && status < 300) return current;
    if (status >= 300 && status < 400 && location) {
      if (hop >= options.maxRedirects) {
        throw new GitError(GitErrorCode.REDIRECT_BLOCKED, `${start.url} redirects more than ${options.maxRedirects} times; giving up`);
      }
      current = await nextHop(current, new URL(location, infoRefs), options.policy);
      continue;
    }
    throw errorForStatus(status, current.url, options.credential !== undefined, retryAfter);
  }
}

async function nextHop(from: VettedRepositoryUrl, location: URL, policy: UrlPolicy): Promise<VettedRepositoryUrl> {
  const blocked = (why: string, cause?: unknown): GitError =>
    new GitError(GitErrorCode.REDIRECT_BLOCKED, `${from.url} redirects to ${location.href}, which is not allowed: ${why}`, { cause });
  // git itself only accepts a redirect that keeps the /info/refs suffix; it derives the new base from it.
  if (!location.pathname.endsWith(INFO_REFS) || location.search !== INFO_REFS_QUERY) throw blocked('it is not a git endpoint');
  if (from.protocol === 'https:' && location.protocol === 'http:') throw blocked('it downgrades https to plain http');
  location.search = '';
  location.pathname = location.pathname.slice(0, -INFO_REFS.length);
  try {
    return await policy.check(location.href);
  } catch (error) {
    if (GitError.isGitError(error, GitErrorCode.BLOCKED_BY_POLICY) || GitError.isGitError(error, GitErrorCode.INVALID_URL)) {
      throw blocked(error.message, error);
    }
    throw error;
  }
}

function errorForStatus(status: number, url: string, withCredential: boolean, retryAfter: string | undefined): GitError {
  if ((status === 401 || status === 403) && withCredential) {
    return new GitError(
      GitErrorCode.AUTH_REQUIRED,
      `Repository at ${url} refused the repository's credential (HTTP ${status}): it was revoked or expired, lacks read access, or the repository does not exist. Set a working one with PATCH /api/repositories/:id`,
    );
  }
  if (status === 401 || status === 403) {
    return new GitError(
      GitErrorCode.AUTH_REQUIRED,
      `Repository at ${url} requires authentication (HTTP ${status}): it is private, or does not exist. Give the repository a credential (a token, or an SSH key for its SSH URL) to archive it`,
    );
  }
  if (status === 404 || status === 410)
    return new GitError(GitErrorCode.NOT_FOUND, `Repository not found at ${url}: check the URL, or it may be private`);
  // A 503 is only a request to slow down when it says for how long; otherwise the server is failing.
  if (status === 429 || (status === 503 && retryAfter !== undefined)) {
    return new GitError(
      GitErrorCode.RATE_LIMITED,
      `The server at ${url} answered HTTP ${status} (${status === 429 ? 'too many requests' : 'unavailable'})${retryAfter === undefined ? '' : ` asking to retry after ${retryAfter}`}; the archiver backs off this host and tries later`,
      { retryAfter },
    );
  }
  if (status >= 500) {
    return new GitError(GitErrorCode.NETWORK, `The server at ${url} answered HTTP ${status} (busy or failing)`);
  }
  if (status >= 300 && status < 400)
    return new GitError(GitErrorCode.REDIRECT_BLOCKED, `${url} answered HTTP ${status} without a Location`);
  return new GitError(GitErrorCode.GIT_FAILED, `${url} does not look like a git repository (HTTP ${status} for its ref advertisement)`);
}

/** Connect only to addresses the policy vetted, whatever DNS would say now. */
export function pinnedLookup(addresses: readonly ResolvedAddress[]): LookupFunction {
  return ((_hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    const [first] = addresses;
    if (!first) return callback(new Error('no vetted address'), '', 4);
    if (options.all)
      return callback(
        null,
        addresses.map((a) => ({ address: a.address, family: a.family })),
      );
    callback(null, first.address, first.family);
  }) as LookupFunction;
}

const TLS_ERROR = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/;

/*
 * The advertisement is read to its end (not only the status) so that an endless or huge one
 * fails here, clearly and cheaply, before git buffers it. A v2 server answers the preflight's
 * `git-protocol: version=2` with capabilities only; git's own ref listing is bounded by its
 * memory cap instead.
 */
function probe(url: URL, addresses: readonly ResolvedAddress[], options: PreflightOptions): Promise<ProbeAnswer> {
  if (options.signal.aborted) return Promise.reject(options.signal.reason as Error);
  const timeout = options.requestTimeoutMs === undefined ? undefined : AbortSignal.timeout(options.requestTimeoutMs);
  const signal = timeout ? AbortSignal.any([options.signal, timeout]) : options.signal;
  const maxBytes = options.maxAdvertisementBytes ?? DEFAULT_MAX_ADVERTISEMENT_BYTES;
  const requestOptions: RequestOptions = {
    method: 'GET',
    hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port || undefined,
    path: `${url.pathname}${url.search}`,
    headers: { 'user-agent': 'git/2 (repository-archiver)', accept: '*/*', 'git-protocol': 'version=2', ...authorization(url, options) },
    lookup: pinnedLookup(addresses),
    agent: false,
    signal,
  };
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (error: unknown): void => {
      if (settled) return;
      settled = true;
      req.destroy();
      reject(classify(error, url, options, timeout));
    };
    const req = send(requestOptions, (res) => {
      const status = res.statusCode ?? 0;
      if (status < 200 || status >= 300) {
        settled = true;
        res.destroy();
        const retryAfter = res.headers['retry-after'];
        return resolve({
          status,
          location: res.headers.location,
          ...(retryAfter !== undefined && { retryAfter: retryAfter.slice(0, 100) }),
        });
      }
      readAdvertisement(res, maxBytes).then(() => {
        settled = true;
        resolve({ status });
      }, fail);
    });
    req.on('error', fail);
    req.end();
  });
}

function authorization(url: URL, options: PreflightOptions): Record<string, string> {
  const credential = options.credential;
  if (!credential || url.origin !== credential.origin) return {};
  return { authorization: `Basic ${Buffer.from(`${credential.username}:${credential.password}`, 'utf8').toString('base64')}` };
}

class AdvertisementTooLarge extends Error {}

async function readAdvertisement(res: IncomingMessage, maxBytes: number): Promise<void> {
  let received = 0;
  for await (const chunk of res) {
    received += (chunk as Buffer).length;
    if (received > maxBytes) {
      res.destroy();
      throw new AdvertisementTooLarge();
    }
  }
}

function classify(error: unknown, url: URL, options: PreflightOptions, timeout: AbortSignal | undefined): Error {
  if (options.signal.aborted) return options.signal.reason as Error;
  if (error instanceof GitError) return error;
  if (error instanceof AdvertisementTooLarge) {
    const limit = options.maxAdvertisementBytes ?? DEFAULT_MAX_ADVERTISEMENT_BYTES;
    return new GitError(
      GitErrorCode.TOO_LARGE,
      `The ref advertisement of ${url.origin}${url.pathname} is larger than ${limit} bytes; a repository with that many refs cannot be archived`,
    );
  }
  if (timeout?.aborted) {
    return new GitError(GitErrorCode.TIMED_OUT, `${url.host} did not answer within ${options.requestTimeoutMs} ms`, { cause: error });
  }
  const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
  if (TLS_ERROR.test(code)) {
    return new GitError(GitErrorCode.NETWORK, `The TLS certificate of ${url.host} could not be verified (${code})`, {
      transient: false,
      cause: error,
    });
  }
  return new GitError(GitErrorCode.NETWORK, `Could not connect to ${url.host} (${code})`, { cause: error });
}

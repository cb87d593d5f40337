import { request as httpRequest, IncomingMessage, RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { GitError, GitErrorCode } from './git.error';
import type { ResolvedAddress, UrlPolicy, VettedRepositoryUrl } from './url-policy';

const INFO_REFS = '/info/refs';
const INFO_REFS_QUERY = '?service=git-upload-pack';

export interface PreflightOptions {
  readonly policy: UrlPolicy;
  /** Aborts the whole preflight (deadline or caller); its reason is rethrown as is. */
  readonly signal: AbortSignal;
  /** Bound on each single request. */
  readonly requestTimeoutMs: number;
  readonly maxRedirects: number;
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
    const response = await probe(infoRefs, current.addresses, options);
    const status = response.statusCode ?? 0;
    if (status >= 200 && status < 300) return current;
    if (status >= 300 && status < 400 && response.headers.location) {
      if (hop >= options.maxRedirects) {
        throw new GitError(GitErrorCode.REDIRECT_BLOCKED, `${start.url} redirects more than ${options.maxRedirects} times; giving up`);
      }
      current = await nextHop(current, new URL(response.headers.location, infoRefs), options.policy);
      continue;
    }
    throw errorForStatus(status, current.url);
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

function errorForStatus(status: number, url: string): GitError {
  if (status === 401 || status === 403) {
    return new GitError(
      GitErrorCode.AUTH_REQUIRED,
      `Repository at ${url} requires authentication (HTTP ${status}): it is private, or does not exist. Only public repositories can be archived`,
    );
  }
  if (status === 404 || status === 410)
    return new GitError(GitErrorCode.NOT_FOUND, `Repository not found at ${url}: check the URL, or it may be private`);
  if (status === 429 || status >= 500) {
    return new GitError(GitErrorCode.NETWORK, `The server at ${url} answered HTTP ${status} (busy or failing); will retry later`);
  }
  if (status >= 300 && status < 400)
    return new GitError(GitErrorCode.REDIRECT_BLOCKED, `${url} answered HTTP ${status} without a Location`);
  return new GitError(GitErrorCode.GIT_FAILED, `${url} does not look like a git repository (HTTP ${status} for its ref advertisement)`);
}

/** Connect only to addresses the policy vetted, whatever DNS would say now. */
function pinnedLookup(addresses: readonly ResolvedAddress[]): LookupFunction {
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

function probe(url: URL, addresses: readonly ResolvedAddress[], options: PreflightOptions): Promise<IncomingMessage> {
  if (options.signal.aborted) return Promise.reject(options.signal.reason as Error);
  const timeout = AbortSignal.timeout(options.requestTimeoutMs);
  const signal = AbortSignal.any([options.signal, timeout]);
  const requestOptions: RequestOptions = {
    method: 'GET',
    hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port || undefined,
    path: `${url.pathname}${url.search}`,
    headers: { 'user-agent': 'git/2 (repository-archiver)', accept: '*/*', 'git-protocol': 'version=2' },
    lookup: pinnedLookup(addresses),
    agent: false,
    signal,
  };
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(requestOptions, (res) => {
      // Only the status and Location matter; do not download the advertisement twice.
      res.destroy();
      resolve(res);
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (options.signal.aborted) return reject(options.signal.reason as Error);
      if (timeout.aborted) {
        return reject(
          new GitError(GitErrorCode.NETWORK, `${url.host} did not answer within ${options.requestTimeoutMs} ms; will retry later`, {
            cause: error,
          }),
        );
      }
      const code = error.code ?? error.message;
      if (TLS_ERROR.test(code)) {
        return reject(
          new GitError(GitErrorCode.NETWORK, `The TLS certificate of ${url.host} could not be verified (${code})`, {
            transient: false,
            cause: error,
          }),
        );
      }
      reject(new GitError(GitErrorCode.NETWORK, `Could not connect to ${url.host} (${code}); will retry later`, { cause: error }));
    });
    req.end();
  });
}

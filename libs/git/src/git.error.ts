import { CodedError } from '@archiver/errors';

/**
 * Stable codes of everything that can go wrong while vetting, cloning or reading a repository.
 * Never rename a value: codes are stored in the archive's `error` and mapped to HTTP statuses.
 */
export enum GitErrorCode {
  /** The URL is malformed, uses a forbidden scheme, or carries credentials. */
  INVALID_URL = 'INVALID_URL',
  /** The host or one of its addresses is outside what the policy allows (loopback, private...). */
  BLOCKED_BY_POLICY = 'BLOCKED_BY_POLICY',
  /** The server redirected somewhere the policy does not allow, or too many times. */
  REDIRECT_BLOCKED = 'REDIRECT_BLOCKED',
  NOT_FOUND = 'NOT_FOUND',
  /** The repository is private (or hidden behind a login); we never send credentials. */
  AUTH_REQUIRED = 'AUTH_REQUIRED',
  /** The clone grew past its size cap, or needed more memory than git may use. */
  TOO_LARGE = 'TOO_LARGE',
  /** The clone did not finish before its wall-clock deadline. */
  TIMED_OUT = 'TIMED_OUT',
  /** Connection refused/reset, DNS hiccup, 5xx: worth another attempt later. */
  NETWORK = 'NETWORK',
  /** The caller's signal aborted the operation (e.g. the worker is shutting down). */
  ABORTED = 'ABORTED',
  /** The repository has no commits, for callers that treat that as a failure. */
  EMPTY_REPOSITORY = 'EMPTY_REPOSITORY',
  /** The server sent a damaged pack (bad checksum, truncated, undecodable objects). */
  CORRUPT_REPOSITORY = 'CORRUPT_REPOSITORY',
  /** A programming or configuration mistake (bad allowlist entry, bad object id). */
  INVALID_ARGUMENT = 'INVALID_ARGUMENT',
  /** git failed for a reason we do not recognise; `detail` carries its (redacted) stderr. */
  GIT_FAILED = 'GIT_FAILED',
  /** The SSH server presented a host key other than the one pinned for the repository. */
  HOST_KEY_CHANGED = 'HOST_KEY_CHANGED',
  /** The server asked us to slow down (HTTP 429, or 503 with Retry-After): back off the host, not a failure. */
  RATE_LIMITED = 'RATE_LIMITED',
}

/** Whether retrying the same request later may succeed, when the thrower does not say. */
const TRANSIENT_BY_DEFAULT: Readonly<Record<GitErrorCode, boolean>> = {
  [GitErrorCode.INVALID_URL]: false,
  [GitErrorCode.BLOCKED_BY_POLICY]: false,
  [GitErrorCode.REDIRECT_BLOCKED]: false,
  [GitErrorCode.NOT_FOUND]: false,
  [GitErrorCode.AUTH_REQUIRED]: false,
  [GitErrorCode.TOO_LARGE]: false,
  // A repository that did not fit the deadline once will not fit it next time either.
  [GitErrorCode.TIMED_OUT]: false,
  [GitErrorCode.NETWORK]: true,
  [GitErrorCode.ABORTED]: true,
  [GitErrorCode.EMPTY_REPOSITORY]: false,
  // A server that sends a damaged pack sends the same damage next time.
  [GitErrorCode.CORRUPT_REPOSITORY]: false,
  [GitErrorCode.INVALID_ARGUMENT]: false,
  [GitErrorCode.GIT_FAILED]: false,
  // Retrying cannot make the key match: a person must accept the new key or find the intruder.
  [GitErrorCode.HOST_KEY_CHANGED]: false,
  [GitErrorCode.RATE_LIMITED]: true,
};

export interface GitErrorOptions {
  /** Overrides the code's default (e.g. a 5xx mapped to NETWORK is transient, a TLS failure is not). */
  transient?: boolean;
  /** Technical detail for logs (git's stderr); already redacted, never shown as the message. */
  detail?: string;
  cause?: unknown;
  /** RATE_LIMITED: the server's Retry-After header as sent (seconds or an HTTP-date), when it gave one. */
  retryAfter?: string;
}

export class GitError extends CodedError<GitErrorCode> {
  override readonly name = 'GitError';
  readonly domain = 'git';
  readonly retryAfter?: string;

  constructor(code: GitErrorCode, message: string, options: GitErrorOptions = {}) {
    super(code, redactCredentials(message), {
      cause: options.cause,
      transient: options.transient ?? TRANSIENT_BY_DEFAULT[code],
      detail: options.detail === undefined ? undefined : redactCredentials(options.detail),
    });
    if (options.retryAfter !== undefined) this.retryAfter = options.retryAfter;
  }

  static isGitError(value: unknown, code?: GitErrorCode): value is GitError {
    return value instanceof GitError && (code === undefined || value.code === code);
  }
}

/**
 * URLs are vetted to carry no credentials, but git and servers echo URLs back (and a redirect
 * target is not ours), so anything that looks like `scheme://user:secret@` is masked before it
 * reaches a message or a log.
 */
export function redactCredentials(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/\s@]*@/gi, '$1***@');
}

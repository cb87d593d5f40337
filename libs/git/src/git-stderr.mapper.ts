import { GitError, GitErrorCode, redactCredentials } from './git.error';

/** What the clone ran under, so a message can name the limit git ran into. */
export interface CloneLimits {
  /** RLIMIT_DATA of git and its helpers, in bytes. */
  readonly maxMemoryBytes?: number;
  /** A credential was handed to git: a refusal is then the credential's, not "the repository is private". */
  readonly withCredential?: boolean;
}

interface StderrRule {
  readonly pattern: RegExp;
  /** The rule does not apply when this also matches (the same words, another cause). */
  readonly unless?: RegExp;
  readonly code: GitErrorCode;
  readonly transient?: boolean;
  readonly message: (url: string, match: RegExpExecArray, limits: CloneLimits) => string;
}

/** curl's own report that the transfer broke: then a short pack is the network's doing. */
const TRANSFER_BROKE =
  /RPC failed|curl \d+|unexpected disconnect|remote end hung up|transfer closed|recv failure|connection reset|empty reply from server|bytes of body are still expected/i;

/*
 * git (run with LC_ALL=C) and curl phrase the same few situations in many ways; the first rule
 * that matches wins, so specific phrasings come before generic ones. Unknown output falls back to
 * GIT_FAILED with the stderr kept as detail for the logs.
 */
const RULES: readonly StderrRule[] = [
  {
    // git's and glibc's words for an allocation refused by RLIMIT_DATA (git dies with exit 128).
    pattern: /out of memory|cannot allocate memory|(malloc|realloc|calloc|mmap) failed|unable to create thread/i,
    code: GitErrorCode.TOO_LARGE,
    message: (url, _m, limits) =>
      `Repository at ${url} needed more than ${limits.maxMemoryBytes === undefined ? 'the allowed' : `${limits.maxMemoryBytes} bytes of`} memory to clone: ` +
      'its ref advertisement or its objects are too large for the archiver',
  },
  {
    // Texts of git 2.39's index-pack and unpack-objects (both paths of a clone), found by
    // serving damaged packs: bad trailing checksum, truncated, garbage, undecodable objects.
    pattern:
      /pack is corrupted|SHA1 mismatch|final sha1 did not match|pack has bad object|inflate returned|bad pack header|pack signature mismatch|pack version \d+ unsupported|premature end of pack file|serious inflate inconsistency|did not receive expected object|unresolved delta|invalid index-pack output|index-pack failed|unpack-objects failed|early EOF/i,
    unless: TRANSFER_BROKE,
    code: GitErrorCode.CORRUPT_REPOSITORY,
    message: (url) => `The server at ${url} sent a damaged pack (corrupt or incomplete repository data); it cannot be archived as served`,
  },
  {
    pattern: /returned error: 30[1278]\b|unable to update url base from redirection|too many redirects/i,
    code: GitErrorCode.REDIRECT_BLOCKED,
    message: (url) => `${url} redirected git elsewhere; redirects are only followed after being checked, and this one was not`,
  },
  {
    // ssh's words (StrictHostKeyChecking=yes against the pinned key only): a different key, or one of another type.
    pattern: /REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed|host key for .* has changed/i,
    code: GitErrorCode.HOST_KEY_CHANGED,
    message: (url) =>
      `The SSH server of ${url} presented a host key that differs from the one pinned for this repository: ` +
      'the server was re-keyed, or something is intercepting the connection. If the change is expected, ' +
      'PATCH /api/repositories/<id> with the credential and its new "hostKey" (the server\'s public key, e.g. from ssh-keyscan) to accept it',
  },
  {
    pattern:
      /could not read (username|password)|authentication failed|terminal prompts disabled|returned error: 40[13]\b|HTTP Basic: Access denied|Permission denied \((publickey|[a-z,-]*)\)/i,
    code: GitErrorCode.AUTH_REQUIRED,
    message: (url, _m, limits) =>
      limits.withCredential
        ? `The server of ${url} refused the repository's credential (wrong, expired or revoked, or without access to this repository); set a working one with PATCH /api/repositories/<id>`
        : `Repository at ${url} requires authentication: it is private, or does not exist. Give the repository a credential (a token, or an SSH key) to archive it`,
  },
  {
    pattern:
      /repository '.*' not found|repository not found|repository does not exist|returned error: 404\b|returned error: 410\b|does not appear to be a git repository|not valid: is this a git repository|not found: did you run git update-server-info/i,
    code: GitErrorCode.NOT_FOUND,
    message: (url) => `Repository not found at ${url}: check the URL, or it may be private`,
  },
  {
    pattern: /transport '[^']*' not allowed|protocol '[^']*' is not supported/i,
    code: GitErrorCode.BLOCKED_BY_POLICY,
    message: (url) => `git refused the transport for ${url}: only the repository URL's own (http(s) or ssh) is allowed`,
  },
  {
    pattern:
      /SSL certificate problem|server certificate verification failed|certificate (has expired|is not yet valid)|no alternative certificate subject name/i,
    code: GitErrorCode.NETWORK,
    transient: false,
    message: (url) => `The TLS certificate of ${url} could not be verified; the server's HTTPS setup is broken`,
  },
  {
    // git does not show the Retry-After header: the host is backed off by the default schedule.
    pattern: /returned error: 429\b/i,
    code: GitErrorCode.RATE_LIMITED,
    message: (url) => `The server at ${url} answered HTTP 429 (too many requests); the archiver backs off this host and tries later`,
  },
  {
    pattern: /returned error: (429|5\d\d)\b/i,
    code: GitErrorCode.NETWORK,
    message: (url, m) => `The server at ${url} answered HTTP ${m[1]} (busy or failing)`,
  },
  {
    pattern:
      /could not resolve host|failed to connect|couldn't connect|connection (refused|timed out|reset)|operation timed out|timed out after|RPC failed|early EOF|remote end hung up|transfer closed|empty reply from server|recv failure|send failure|SSL_ERROR_SYSCALL|GnuTLS recv error|unexpected disconnect|network is unreachable|no route to host|kex_exchange_identification|connection closed by/i,
    code: GitErrorCode.NETWORK,
    message: (url) => `Network problem while fetching ${url} (connection failed or was cut)`,
  },
  {
    pattern: /no space left on device|disk quota exceeded/i,
    code: GitErrorCode.GIT_FAILED,
    transient: true,
    message: () => 'The archiver ran out of disk space while cloning',
  },
];

/** Turns the stderr of a failed `git clone` into a GitError a person can act on. */
export function gitErrorFromStderr(stderr: string, url: string, cause?: unknown, limits: CloneLimits = {}): GitError {
  const detail = redactCredentials(stderr.trim()).slice(-4000);
  for (const rule of RULES) {
    const match = rule.pattern.exec(stderr);
    if (match && !rule.unless?.test(stderr)) {
      return new GitError(rule.code, rule.message(url, match, limits), { transient: rule.transient, detail, cause });
    }
  }
  const lastLine =
    detail
      .split('\n')
      .filter((l) => l.trim() !== '')
      .pop() ?? 'no output';
  return new GitError(GitErrorCode.GIT_FAILED, `git failed on ${url}: ${lastLine}`, { detail, cause });
}

import { GitError, GitErrorCode, redactCredentials } from './git.error';
import { gitErrorFromStderr } from './git-stderr.mapper';

const URL = 'https://git.example.org/o/r.git';

describe(gitErrorFromStderr.name, () => {
  it.each<[string, GitErrorCode, boolean]>([
    ["fatal: repository 'https://git.example.org/o/r.git/' not found", GitErrorCode.NOT_FOUND, false],
    ['remote: Repository not found.\nfatal: repository not found', GitErrorCode.NOT_FOUND, false],
    ["fatal: unable to access 'https://git.example.org/o/r.git/': The requested URL returned error: 404", GitErrorCode.NOT_FOUND, false],
    ["fatal: 'x' does not appear to be a git repository", GitErrorCode.NOT_FOUND, false],
    ["fatal: could not read Username for 'https://git.example.org': terminal prompts disabled", GitErrorCode.AUTH_REQUIRED, false],
    [
      "remote: HTTP Basic: Access denied\nfatal: Authentication failed for 'https://git.example.org/o/r.git/'",
      GitErrorCode.AUTH_REQUIRED,
      false,
    ],
    [
      "fatal: unable to access 'https://git.example.org/o/r.git/': The requested URL returned error: 403",
      GitErrorCode.AUTH_REQUIRED,
      false,
    ],
    ["fatal: unable to access 'https://git.example.org/o/r.git/': The requested URL returned error: 429", GitErrorCode.RATE_LIMITED, true],
    ["fatal: unable to access 'https://git.example.org/o/r.git/': The requested URL returned error: 503", GitErrorCode.NETWORK, true],
    [
      "fatal: unable to access 'https://git.example.org/o/r.git/': The requested URL returned error: 301",
      GitErrorCode.REDIRECT_BLOCKED,
      false,
    ],
    [
      "fatal: unable to access 'https://git.example.org/o/r.git/': Failed to connect to git.example.org port 443 after 3 ms: Couldn't connect to server",
      GitErrorCode.NETWORK,
      true,
    ],
    [
      "fatal: unable to access 'https://git.example.org/o/r.git/': Connection timed out after 300000 milliseconds",
      GitErrorCode.NETWORK,
      true,
    ],
    ["fatal: unable to access 'https://git.example.org/o/r.git/': Could not resolve host: git.example.org", GitErrorCode.NETWORK, true],
    [
      'error: RPC failed; curl 56 GnuTLS recv error (-9): A TLS packet with unexpected length was received.\nfatal: early EOF',
      GitErrorCode.NETWORK,
      true,
    ],
    ["fatal: unable to access 'https://git.example.org/o/r.git/': The requested URL returned error: 503", GitErrorCode.NETWORK, true],
    [
      "fatal: unable to access 'https://git.example.org/o/r.git/': SSL certificate problem: self-signed certificate",
      GitErrorCode.NETWORK,
      false,
    ],
    ["fatal: transport 'file' not allowed", GitErrorCode.BLOCKED_BY_POLICY, false],
    ['fatal: write error: No space left on device', GitErrorCode.GIT_FAILED, true],
    // git 2.39's own words for damaged packs, recorded from clones of servers sending them.
    ...[
      'fatal: pack is corrupted (SHA1 mismatch)\nfatal: fetch-pack: invalid index-pack output',
      'fatal: final sha1 did not match\nfatal: unpack-objects failed',
      'fatal: early EOF\nfatal: fetch-pack: invalid index-pack output',
      'fatal: early EOF\nfatal: unpack-objects failed',
      'fatal: pack has bad object at offset 12: delta base offset is out of bound\nfatal: fetch-pack: invalid index-pack output',
      'error: inflate: data stream error (invalid stored block lengths)\nfatal: pack has bad object at offset 12: inflate returned -3\nfatal: fetch-pack: invalid index-pack output',
      'error: inflate: data stream error (incorrect header check)\nerror: inflate returned -3\nfatal: unpack-objects failed',
      'fatal: protocol error: bad pack header',
    ].map((stderr): [string, GitErrorCode, boolean] => [stderr, GitErrorCode.CORRUPT_REPOSITORY, false]),
    // The same "early EOF" after curl reports a broken transfer is the network's doing.
    [
      'error: RPC failed; curl 18 transfer closed with outstanding read data remaining\nerror: 59067 bytes of body are still expected\nfetch-pack: unexpected disconnect while reading sideband packet\nfatal: early EOF\nfatal: fetch-pack: invalid index-pack output',
      GitErrorCode.NETWORK,
      true,
    ],
    [
      'error: RPC failed; curl 18 transfer closed with outstanding read data remaining\nfetch-pack: unexpected disconnect while reading sideband packet\nfatal: early EOF\nfatal: unpack-objects failed',
      GitErrorCode.NETWORK,
      true,
    ],
    // An allocation refused by the memory cap (RLIMIT_DATA), in git's and glibc's words.
    ...[
      'fatal: Out of memory, realloc failed',
      'fatal: Out of memory, malloc failed (tried to allocate 1048576 bytes)',
      'fatal: unable to create thread: Resource temporarily unavailable\nfatal: cannot allocate memory',
    ].map((stderr): [string, GitErrorCode, boolean] => [stderr, GitErrorCode.TOO_LARGE, false]),
    ['fatal: something nobody has seen before', GitErrorCode.GIT_FAILED, false],
  ])('maps %j to %s (transient %s)', (stderr, code, transient) => {
    const error = gitErrorFromStderr(stderr, URL);
    expect(error).toBeInstanceOf(GitError);
    expect(error).toMatchObject({ code, transient });
    expect(error.message).toContain(code === GitErrorCode.GIT_FAILED && !transient ? 'nobody has seen before' : '');
    expect(error.detail).toBe(stderr.trim());
  });

  it('gives actionable messages', () => {
    expect(gitErrorFromStderr("fatal: repository 'x' not found", URL).message).toBe(
      `Repository not found at ${URL}: check the URL, or it may be private`,
    );
    expect(gitErrorFromStderr('fatal: could not read Username', URL).message).toMatch(/requires authentication/);
  });

  it('names the memory limit git ran into', () => {
    const error = gitErrorFromStderr('fatal: Out of memory, realloc failed', URL, undefined, { maxMemoryBytes: 268435456 });
    expect(error.message).toBe(
      `Repository at ${URL} needed more than 268435456 bytes of memory to clone: its ref advertisement or its objects are too large for the archiver`,
    );
  });

  it('describes what happened without promising what happens next (the caller decides on retries)', () => {
    const samples = [
      'The requested URL returned error: 503',
      'Failed to connect to git.example.org port 443',
      'No space left on device',
      'SSL certificate problem',
      'pack is corrupted',
      'Out of memory, realloc failed',
      'something new',
    ];
    for (const stderr of samples) expect(gitErrorFromStderr(stderr, URL).message).not.toMatch(/retry|try again|later|will /i);
  });

  it('does not mistake a URL containing "redirect" for a redirect', () => {
    expect(gitErrorFromStderr("fatal: repository 'http://h/redirect/r/' not found", URL).code).toBe(GitErrorCode.NOT_FOUND);
  });

  it('never carries credentials from stderr into the error', () => {
    const error = gitErrorFromStderr("fatal: unable to access 'https://bob:hunter2@git.example.org/': weird", URL);
    expect(`${error.message} ${error.detail}`).not.toContain('hunter2');
  });
});

describe(GitError.name, () => {
  it('defaults transient from the code and lets the thrower override it', () => {
    expect(new GitError(GitErrorCode.NETWORK, 'x').transient).toBe(true);
    expect(new GitError(GitErrorCode.NOT_FOUND, 'x').transient).toBe(false);
    expect(new GitError(GitErrorCode.TIMED_OUT, 'x').transient).toBe(false);
    expect(new GitError(GitErrorCode.NETWORK, 'x', { transient: false }).transient).toBe(false);
    expect(new GitError(GitErrorCode.ABORTED, 'x').transient).toBe(true);
    expect(new GitError(GitErrorCode.CORRUPT_REPOSITORY, 'x').transient).toBe(false);
  });

  it('is recognisable by code', () => {
    const error = new GitError(GitErrorCode.TOO_LARGE, 'big');
    expect(GitError.isGitError(error)).toBe(true);
    expect(GitError.isGitError(error, GitErrorCode.TOO_LARGE)).toBe(true);
    expect(GitError.isGitError(error, GitErrorCode.NOT_FOUND)).toBe(false);
    expect(GitError.isGitError(new Error('big'))).toBe(false);
    expect(error.name).toBe('GitError');
  });

  it('redacts user:password@ from messages', () => {
    expect(redactCredentials('see https://u:p@h/x and http://tok@h2/y')).toBe('see https://***@h/x and http://***@h2/y');
    expect(new GitError(GitErrorCode.GIT_FAILED, 'at https://u:p@h/x').message).toBe('at https://***@h/x');
  });

  // What git 2.39 with OpenSSH 9.2 prints over SSH (StrictHostKeyChecking=yes, BatchMode=yes).
  const SSH_URL = 'ssh://git@git.example.org:2222/o/r.git';
  it.each<[string, string, GitErrorCode, boolean]>([
    [
      'another key of the same type',
      '@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n' +
        '@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\nHost key for archiver-pinned-host has changed and you have requested strict checking.\n' +
        'Host key verification failed.\nfatal: Could not read from remote repository.',
      GitErrorCode.HOST_KEY_CHANGED,
      false,
    ],
    [
      'a key of another type',
      'No RSA host key is known for archiver-pinned-host and you have requested strict checking.\nHost key verification failed.\nfatal: Could not read from remote repository.',
      GitErrorCode.HOST_KEY_CHANGED,
      false,
    ],
    [
      'a refused key',
      'git@127.0.0.1: Permission denied (publickey).\nfatal: Could not read from remote repository.\n\nPlease make sure you have the correct access rights',
      GitErrorCode.AUTH_REQUIRED,
      false,
    ],
    [
      'a missing repository',
      'Gitea: Repository does not exist\nfatal: Could not read from remote repository.',
      GitErrorCode.NOT_FOUND,
      false,
    ],
    [
      'no server',
      'ssh: connect to host 127.0.0.1 port 2222: Connection refused\nfatal: Could not read from remote repository.',
      GitErrorCode.NETWORK,
      true,
    ],
    [
      'a dropped handshake',
      'kex_exchange_identification: read: Connection reset by peer\nfatal: Could not read from remote repository.',
      GitErrorCode.NETWORK,
      true,
    ],
  ])('maps SSH: %s', (_what, stderr, code, transient) => {
    const error = gitErrorFromStderr(stderr, SSH_URL);
    expect({ code: error.code, transient: error.transient }).toEqual({ code, transient });
  });

  it('says how to accept a changed host key', () => {
    const error = gitErrorFromStderr('Host key verification failed.', SSH_URL);
    expect(error.message).toMatch(/PATCH \/api\/repositories\/<id> .*"hostKey"/);
  });

  it.each([
    ["fatal: Authentication failed for 'https://git.example.org/o/r.git/'", URL],
    ["fatal: unable to access 'https://git.example.org/o/r.git/': The requested URL returned error: 403", URL],
    ['git@git.example.org: Permission denied (publickey).', SSH_URL],
  ])('blames the credential, not the repository, when git was given one and refused: %s', (stderr, url) => {
    const withCredential = gitErrorFromStderr(stderr, url, undefined, { withCredential: true });
    expect(withCredential.code).toBe(GitErrorCode.AUTH_REQUIRED);
    expect(withCredential.message).toMatch(/refused the repository's credential/);
    expect(withCredential.message).not.toMatch(/Only public/);
    const without = gitErrorFromStderr(stderr, url);
    expect(without.message).toMatch(/requires authentication/);
  });
});

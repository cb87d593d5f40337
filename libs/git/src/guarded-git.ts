import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { simpleGit } from 'simple-git';
import { GitError, GitErrorCode } from './git.error';
import { dieWithParent, GitRuntimeOptions, hardenedGitEnv } from './git-process';
import { gitErrorFromStderr } from './git-stderr.mapper';
import { preflightRepository } from './redirect-preflight';
import { type RemoteCommandResult, runSshRemoteCommand } from './ssh-remote-command';
import { scanHostKeys, type SshKeyCredential, sshConfig } from './ssh-transport';
import type { UrlPolicy, VettedRepositoryUrl } from './url-policy';

/** Everything that bounds a git command talking to a URL that anyone with an account may choose. */
export interface GuardedGitOptions extends GitRuntimeOptions {
  readonly policy: UrlPolicy;
  /**
   * Optional tighter bound on each preflight HTTP request, reported as TIMED_OUT. By default
   * only the operation's deadline bounds them, so a server that never answers ends TIMED_OUT.
   */
  readonly preflightTimeoutMs?: number;
  /** Largest ref advertisement the preflight reads. Default 64 MiB. */
  readonly maxAdvertisementBytes?: number;
  /**
   * RLIMIT_DATA of git and every helper it starts (heap and private memory; packs are mapped
   * from files and do not count). Default 1 GiB.
   */
  readonly maxMemoryBytes?: number;
  /** Redirect hops followed (each one vetted). Default 5. */
  readonly maxRedirects?: number;
  /** Where git's throw-away HOME directories go unless a request says otherwise. Default the OS temp dir. */
  readonly tempDir?: string;
}

export const DEFAULT_CLONE_MAX_MEMORY_BYTES = 1024 ** 3;

export interface RemoteGitRequest {
  /** As submitted; vetted again here, since DNS answers change between admission and use. */
  readonly url: string;
  /** Wall-clock budget for the whole operation (policy, preflight and git), in milliseconds. */
  readonly deadlineMs: number;
  readonly signal?: AbortSignal;
  /**
   * Where git's throw-away HOME directory (`archiver-git-home-*`) is made, e.g. inside the
   * attempt's own work dir so that whoever sweeps that dir sweeps it too. Default `tempDir`.
   */
  readonly scratchDir?: string;
  /**
   * HTTP basic credentials for a private repository, sent only to the URL's own origin (a
   * redirect elsewhere goes without them), for this operation only: see credentialConfig. Or,
   * for an SSH URL (which needs one), a deploy key and the host key to pin: see sshConfig.
   */
  readonly credential?: RemoteCredential;
}

export type RemoteCredential = HttpCredential | SshKeyCredential;

export function isSshKeyCredential(credential: RemoteCredential | undefined): credential is SshKeyCredential {
  return credential !== undefined && 'privateKey' in credential;
}

/** What git and the preflight send as HTTP basic auth (a token goes as the password). */
export interface HttpCredential {
  readonly username: string;
  readonly password: string;
  /** Called once an operation with it succeeded: the server accepted it. */
  readonly onAccepted?: () => Promise<void>;
}

/** How messages name the operation: `Cloning <url> took longer than...`. */
export interface RemoteGitAction {
  /** e.g. `Cloning`, `Listing the refs of`. */
  readonly verb: string;
  /** Why a deadline was missed, as a person would fix it. */
  readonly tooSlow: string;
}

/** What an operation may do once the URL and every redirect hop are vetted. */
export interface RemoteGitSession {
  /** Where git must go: the request's URL, or where its vetted redirects led. */
  readonly target: VettedRepositoryUrl;
  /** The throw-away HOME git runs with; a fine working directory for commands without one. */
  readonly home: string;
  /** Ends the operation with `reason` (the first reason wins); git is killed. */
  stop(reason: GitError): void;
  /** Runs `git <hardened config> <args>` against `target` under the launcher; the URL is the caller's to place, after `--`. */
  git(args: readonly string[], options: { readonly cwd: string; readonly onStdout?: (chunk: Buffer) => void }): Promise<void>;
  /**
   * SSH sessions only: runs `command` (safe for a remote shell) on the server through the very
   * ssh invocation git uses, under the same launcher and deadline; see runSshRemoteCommand.
   */
  sshCommand(command: string, options: { readonly maxStdoutBytes: number }): Promise<RemoteCommandResult>;
}

/*
 * Every value here makes git *safer* than its defaults: no transport but the one the URL names
 * (protocolConfig adds it), no hooks, no credential helper, no redirect git would follow on its
 * own (the preflight follows and vets them). simple-git flags some of these keys as "unsafe" because, given user input, they could
 * weaken git; we enable exactly those flags, and the user's URL only ever reaches git after
 * `--`, vetted and re-serialised.
 */
const HARDENED_CONFIG = [
  'protocol.allow=never',
  'core.hooksPath=/dev/null',
  // Empties the helper list: only the operation's own, origin-scoped helper may follow.
  'credential.helper=',
  'http.followRedirects=false',
  'submodule.recurse=false',
];

/** The wrapper's own deadline trails ours, only to catch a stalled event loop. */
const BACKSTOP_GRACE_SECONDS = 5;
/** What coreutils `timeout` exits with when its own deadline fired. */
const TIMEOUT_EXIT_CODE = 124;
const BACKSTOP_FIRED = 'the timeout wrapper killed git';

const UNSAFE_FLAGS_WE_SET_SAFELY = {
  allowUnsafeProtocolOverride: true,
  allowUnsafeHooksPath: true,
  allowUnsafeCredentialHelper: true,
  allowUnsafeAskPass: true,
  allowUnsafeConfigPaths: true,
  allowUnsafeSshCommand: true,
};

/**
 * The one path by which git reaches a user's URL (the clone and the change probe alike): the
 * policy check, the redirect preflight, a deadline and the caller's signal over all of it, and
 * git launched pinned, hardened and bounded. `work` runs once the target is vetted; any error is
 * a GitError, the first reason to stop winning over what followed from it (git dying of the kill).
 */
export async function withGuardedGit<T>(
  options: GuardedGitOptions,
  request: RemoteGitRequest,
  action: RemoteGitAction,
  work: (session: RemoteGitSession) => Promise<T>,
): Promise<T> {
  const deadlineAt = Date.now() + request.deadlineMs;
  const scratchDir = request.scratchDir ?? options.tempDir ?? tmpdir();
  await mkdir(scratchDir, { recursive: true });
  const home = await mkdtemp(path.join(scratchDir, 'archiver-git-home-'));

  const controller = new AbortController();
  let stopReason: GitError | undefined;
  const stop = (reason: GitError): void => {
    stopReason ??= reason;
    controller.abort(stopReason);
  };
  const deadline = setTimeout(
    () =>
      stop(
        new GitError(GitErrorCode.TIMED_OUT, `${action.verb} ${request.url} took longer than ${request.deadlineMs} ms; ${action.tooSlow}`),
      ),
    request.deadlineMs,
  );
  const onCallerAbort = (): void =>
    stop(new GitError(GitErrorCode.ABORTED, `${action.verb} ${request.url} was aborted`, { cause: request.signal?.reason }));
  if (request.signal?.aborted) onCallerAbort();
  request.signal?.addEventListener('abort', onCallerAbort, { once: true });

  try {
    const vetted = await untilAborted(options.policy.check(request.url), controller.signal);
    const {
      target,
      extraConfig,
      sshArgv = [],
    } = vetted.protocol === 'ssh:'
      ? await sshSession(vetted, request.credential, home, { options, signal: controller.signal, deadlineAt })
      : await httpSession(vetted, request.credential, home, { options, signal: controller.signal });
    const launch = {
      options,
      target,
      home,
      signal: controller.signal,
      deadlineAt,
      verb: action.verb,
      extraConfig,
      withCredential: request.credential !== undefined,
    };
    const maxMemoryBytes = options.maxMemoryBytes ?? DEFAULT_CLONE_MAX_MEMORY_BYTES;
    const remote = { runtime: options, sshArgv, target, home, signal: controller.signal, deadlineAt, maxMemoryBytes };
    const result = await work({
      target,
      home,
      stop,
      git: (args, run) => runLaunchedGit(launch, args, run),
      sshCommand: (command, run) => runSshRemoteCommand({ ...remote, graceSeconds: BACKSTOP_GRACE_SECONDS }, command, run.maxStdoutBytes),
    });
    if (stopReason) throw stopReason;
    await request.credential?.onAccepted?.();
    return result;
  } catch (error) {
    throw stopReason ?? asGitError(error, request.url, action);
  } finally {
    clearTimeout(deadline);
    request.signal?.removeEventListener('abort', onCallerAbort);
    await rm(home, { recursive: true, force: true });
  }
}

interface SessionSetup {
  readonly target: VettedRepositoryUrl;
  readonly extraConfig: string[];
  /** SSH sessions: the ssh invocation of extraConfig's core.sshCommand, as an argument vector. */
  readonly sshArgv?: readonly string[];
}

/** http(s): the redirect preflight (with the credential, for the URL's own origin only), then the helper. */
async function httpSession(
  vetted: VettedRepositoryUrl,
  given: RemoteCredential | undefined,
  home: string,
  { options, signal }: { options: GuardedGitOptions; signal: AbortSignal },
): Promise<SessionSetup> {
  if (isSshKeyCredential(given)) {
    throw new GitError(
      GitErrorCode.INVALID_ARGUMENT,
      `${vetted.url} is an http(s) URL but the repository's credential is an SSH key; use the repository's ssh:// URL, or set a token`,
    );
  }
  const credential = given && { origin: new URL(vetted.url).origin, ...checkedCredential(given) };
  const target = await preflightRepository(vetted, {
    policy: options.policy,
    signal,
    requestTimeoutMs: options.preflightTimeoutMs,
    maxRedirects: options.maxRedirects ?? 5,
    maxAdvertisementBytes: options.maxAdvertisementBytes,
    credential,
  });
  return { target, extraConfig: credential ? await credentialConfig(home, credential) : [] };
}

/**
 * SSH has no redirects to vet; what it needs is a key and the server's host key: pinned, or
 * scanned now at the vetted address and stored by the caller before git runs (trust on first use).
 */
async function sshSession(
  target: VettedRepositoryUrl,
  given: RemoteCredential | undefined,
  home: string,
  { options, signal, deadlineAt }: { options: GuardedGitOptions; signal: AbortSignal; deadlineAt: number },
): Promise<SessionSetup> {
  if (!isSshKeyCredential(given)) {
    throw new GitError(
      GitErrorCode.AUTH_REQUIRED,
      `${target.url} is an SSH URL: it needs an SSH key credential (kind "ssh", e.g. a deploy key); ${given ? 'a token or password cannot log in over SSH' : 'none is set'}`,
    );
  }
  const remainingMs = Math.max(1000, deadlineAt - Date.now());
  let hostKey = given.hostKey;
  if (hostKey === undefined) {
    hostKey = await untilAborted(scanHostKeys(target, { signal, timeoutMs: remainingMs, runtime: options }), signal);
    await given.onHostKeyPinned?.(hostKey);
  }
  const ssh = await sshConfig(home, target, { ...given, hostKey }, Math.min(30, remainingMs / 1000));
  return { target, extraConfig: ssh.gitConfig, sshArgv: ssh.argv };
}

interface Launch {
  readonly options: GuardedGitOptions;
  readonly target: VettedRepositoryUrl;
  readonly home: string;
  readonly signal: AbortSignal;
  readonly deadlineAt: number;
  readonly verb: string;
  /** `-c` settings of this operation only (the credential helper, the ssh command). */
  readonly extraConfig: readonly string[];
  /** Whether a credential was handed to git, so a refusal is reported as the credential's. */
  readonly withCredential: boolean;
}

/*
 * simple-git stops a task by sending SIGINT to the process it spawned, but git's helpers
 * (git-remote-https, fetch-pack, index-pack) would live on as orphans, still downloading and
 * even re-creating a clone directory after we removed it. So git runs under coreutils
 * `timeout`, which gives it a process group of its own, forwards SIGINT and SIGTERM to the
 * whole group, and enforces the deadline by itself should this process stall. In front of it,
 * `setpriv` has the kernel send that SIGTERM when this process dies (even of SIGKILL), and
 * `prlimit` caps the memory of the whole group (inherited by every helper git starts), so a
 * server streaming an endless ref advertisement meets an allocation failure, not the host's
 * OOM killer. Each of them execs the next, so simple-git's SIGINT reaches `timeout` itself.
 */
async function runLaunchedGit(
  launch: Launch,
  args: readonly string[],
  run: { readonly cwd: string; readonly onStdout?: (chunk: Buffer) => void },
): Promise<void> {
  const { options, target, signal } = launch;
  const maxMemoryBytes = options.maxMemoryBytes ?? DEFAULT_CLONE_MAX_MEMORY_BYTES;
  const backstopSeconds = Math.ceil(Math.max(0, launch.deadlineAt - Date.now()) / 1000) + BACKSTOP_GRACE_SECONDS;
  const memoryCap = ['prlimit', `--data=${maxMemoryBytes}:${maxMemoryBytes}`, '--'];
  const [launcher = 'setpriv', ...launcherArgs] = dieWithParent(BACKSTOP_GRACE_SECONDS, backstopSeconds, memoryCap);
  // Overrides every protocol.* setting: exactly the transport the vetted URL names, nothing it could lead to.
  const env = { ...hardenedGitEnv(launch.home, options), GIT_ALLOW_PROTOCOL: target.protocol === 'ssh:' ? 'ssh' : 'http:https' };
  const git = simpleGit({
    baseDir: run.cwd,
    binary: launcher,
    abort: signal,
    allowEnvironment: Object.keys(env),
    unsafe: UNSAFE_FLAGS_WE_SET_SAFELY,
    // simple-git only reports failures that wrote to stderr; a git killed from outside must fail too.
    errors: (error, result) => {
      if (error || result.exitCode === 0) return error;
      if (result.exitCode === TIMEOUT_EXIT_CODE) return new Error(BACKSTOP_FIRED);
      const stderr = Buffer.concat(result.stdErr);
      return stderr.length > 0 ? stderr : new Error(`git ${args[0] ?? ''} exited with ${result.exitCode}`);
    },
  }).env(env);
  const onStdout = run.onStdout;
  // simple-git decodes stdout as UTF-8; callers that need git's exact bytes (ref names) read the stream.
  if (onStdout) git.outputHandler((_command, stdout) => stdout.on('data', (chunk: Buffer) => onStdout(chunk)));
  const config = [...HARDENED_CONFIG, ...protocolConfig(target), ...pinnedResolveConfig(target), ...launch.extraConfig].flatMap(
    (setting) => ['-c', setting],
  );
  try {
    await git.raw([...launcherArgs, options.gitBinary ?? 'git', ...config, ...args]);
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    if (error instanceof Error && error.message.includes(BACKSTOP_FIRED)) {
      throw new GitError(GitErrorCode.TIMED_OUT, `${launch.verb} ${target.url} overran its deadline and was killed`, { cause: error });
    }
    throw gitErrorFromStderr(error instanceof Error ? error.message : String(error), target.url, error, {
      maxMemoryBytes,
      withCredential: launch.withCredential,
    });
  }
}

/**
 * Hands the credential to git without it ever being on a command line, in the environment, in
 * a URL or in a git config file: a file (mode 600) in the operation's throw-away HOME, removed
 * with it in every outcome, read by a credential helper that only answers `get`. The helper is
 * scoped to the submitted URL's origin (`credential.<origin>.helper`, after HARDENED_CONFIG has
 * emptied the helper list), so a redirect to another host gets nothing.
 */
async function credentialConfig(home: string, credential: HttpCredential & { origin: string }): Promise<string[]> {
  const file = path.join(home, 'credential');
  await writeFile(file, `username=${credential.username}\npassword=${credential.password}\n`, { mode: 0o600, flag: 'wx' });
  const quoted = `'${file.replace(/'/g, `'\\''`)}'`;
  return [`credential.${credential.origin}.helper=!f() { test "$1" = get && cat ${quoted}; }; f`];
}

/** git's credential protocol is line based: a newline or NUL would inject fields. */
function checkedCredential(credential: HttpCredential): HttpCredential {
  const bad = (value: string) => value.length === 0 || /[\0\r\n]/.test(value);
  if (bad(credential.username) || bad(credential.password)) {
    throw new GitError(GitErrorCode.INVALID_ARGUMENT, 'A credential user name and password must be non-empty single lines');
  }
  return { username: credential.username, password: credential.password };
}

/** Exactly the transport the vetted URL names (GIT_ALLOW_PROTOCOL says the same). */
function protocolConfig(target: VettedRepositoryUrl): string[] {
  return target.protocol === 'ssh:' ? ['protocol.ssh.allow=always'] : ['protocol.http.allow=always', 'protocol.https.allow=always'];
}

/**
 * Pins each host to the addresses the policy vetted, so curl does not resolve it again (a DNS
 * rebinding attack would answer with 127.0.0.1 the second time). IP literals need no pinning.
 */
function pinnedResolveConfig(target: VettedRepositoryUrl): string[] {
  if (target.protocol === 'ssh:') return []; // sshConfig names the address itself
  if (target.addresses.some((a) => a.address === target.host)) return [];
  const addresses = target.addresses.map((a) => (a.family === 6 ? `[${a.address}]` : a.address)).join(',');
  return [`http.curloptResolve=${target.host}:${target.port}:${addresses}`];
}

function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function asGitError(error: unknown, url: string, action: RemoteGitAction): GitError {
  if (error instanceof GitError) return error;
  return new GitError(GitErrorCode.GIT_FAILED, `${action.verb} ${url} failed: ${error instanceof Error ? error.message : String(error)}`, {
    cause: error,
  });
}

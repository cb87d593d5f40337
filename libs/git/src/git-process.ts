import { spawn, ChildProcessWithoutNullStreams } from 'node:child_process';
import { tmpdir } from 'node:os';
import { GitError, GitErrorCode } from './git.error';

/** How git is found and run; passed in by the app (libs never read process.env). */
export interface GitRuntimeOptions {
  /** The git executable, looked up on `searchPath` when not absolute. Default `git`. */
  readonly gitBinary?: string;
  /**
   * PATH given to git and the helpers it execs (git-remote-https...). Fixed rather than
   * inherited so nothing in the service's environment (proxies, GIT_* variables) leaks in.
   */
  readonly searchPath?: string;
}

export const DEFAULT_SEARCH_PATH = '/usr/local/bin:/usr/bin:/bin';

/*
 * git reads `$GIT_DIR/info/grafts` unless told another file; a path below /dev/null can never
 * exist (ENOTDIR), so git finds no grafts and, unlike with an empty file, prints no deprecation
 * hint that would end up in the stderr we classify.
 */
export const NO_GRAFT_FILE = '/dev/null/archiver-no-grafts';

/**
 * The whole environment git runs with: no system or global config (so no credential helper,
 * url rewriting, proxy or hooks path from the host), no prompts, C locale so stderr can be
 * matched, and no proxy variables so pinned addresses are the ones connected to. Replace refs
 * and grafts are ignored, so what is read is exactly what the named objects contain: a
 * repository must not be able to make a commit's stored tree differ from its id.
 */
export function hardenedGitEnv(home: string, runtime: GitRuntimeOptions = {}): Record<string, string> {
  return {
    PATH: runtime.searchPath ?? DEFAULT_SEARCH_PATH,
    HOME: home,
    XDG_CONFIG_HOME: home,
    LC_ALL: 'C',
    LANG: 'C',
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_ASKPASS: '/bin/false',
    SSH_ASKPASS: '/bin/false',
    GIT_NO_REPLACE_OBJECTS: '1',
    GIT_GRAFT_FILE: NO_GRAFT_FILE,
  };
}

/**
 * Prefix that makes a command's whole process tree die with this process, even of SIGKILL:
 * util-linux `setpriv` has the kernel send SIGTERM when the thread that spawned it dies, and
 * execs coreutils `timeout`, which leads a process group of its own and passes that SIGTERM
 * to all of it (git and the helpers git starts: remote-https, index-pack, pack-objects,
 * dashed commands), then SIGKILLs what is left after `graceSeconds`. `timeout` also ends the
 * group after `deadlineSeconds` (0: never). Options for `timeout` end the prefix, so tools
 * that must wrap the group as a whole (prlimit) go between `setpriv` and `timeout`.
 */
export function dieWithParent(graceSeconds: number, deadlineSeconds = 0, between: readonly string[] = []): string[] {
  return ['setpriv', '--pdeathsig=SIGTERM', '--', ...between, 'timeout', `--kill-after=${graceSeconds}s`, `${deadlineSeconds}s`];
}

/**
 * Kills a command started by spawnGit together with everything it started: the child is
 * `timeout`, which leads the process group git runs in, so a SIGKILL of the child alone would
 * leave git (and the pipes it holds) alive.
 */
export function killGitGroup(child: { pid?: number; kill(signal: NodeJS.Signals): boolean }): void {
  try {
    if (child.pid !== undefined) return void process.kill(-child.pid, 'SIGKILL');
  } catch {
    // Already gone, or not a group leader (a custom gitBinary run without the launcher).
  }
  child.kill('SIGKILL');
}

/** A local git command is given this long to stop after SIGTERM before its group is killed. */
const LOCAL_GRACE_SECONDS = 2;

/** Local, read-only git commands over a repository we cloned ourselves; they die with us. */
export function spawnGit(args: readonly string[], cwd: string, runtime: GitRuntimeOptions = {}): ChildProcessWithoutNullStreams {
  const [launcher = 'setpriv', ...launcherArgs] = dieWithParent(LOCAL_GRACE_SECONDS);
  return spawn(launcher, [...launcherArgs, runtime.gitBinary ?? 'git', ...args], {
    cwd,
    env: hardenedGitEnv(tmpdir(), runtime),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

export interface RunGitOptions {
  readonly cwd: string;
  readonly runtime?: GitRuntimeOptions;
  /** Exit codes that are answers rather than failures (e.g. 1 from `rev-parse --verify --quiet`). */
  readonly okExitCodes?: readonly number[];
  /** Receives stdout as it arrives instead of collecting it (for outputs that may be large). */
  readonly onStdout?: (chunk: Buffer) => void;
  /** Written to git's stdin, which is then closed. */
  readonly input?: string | Buffer;
  /** Kills git (and what it started) and rejects with GitError ABORTED. */
  readonly signal?: AbortSignal;
}

export interface GitRunResult {
  readonly exitCode: number;
  readonly stdout: Buffer;
}

/** Guard against runaway output when collecting stdout. */
const MAX_COLLECTED_BYTES = 64 * 1024 * 1024;
const STDERR_KEEP = 8 * 1024;

export function abortedError(what: string, signal?: AbortSignal): GitError {
  return new GitError(GitErrorCode.ABORTED, `${what} was cancelled`, { cause: signal?.reason });
}

/**
 * Kills `child`'s group when `signal` fires: the commands it is used for only read a
 * repository we cloned (or write a file we delete), so nothing is left half-done that matters.
 * Returns the function that stops watching.
 */
export function killOnAbort(child: ChildProcessWithoutNullStreams, signal: AbortSignal | undefined): () => void {
  if (!signal) return () => undefined;
  const kill = () => killGitGroup(child);
  if (signal.aborted) kill();
  else signal.addEventListener('abort', kill, { once: true });
  return () => signal.removeEventListener('abort', kill);
}

/**
 * Runs a short local git command to completion; failures become GitError GIT_FAILED with
 * stderr as detail, a cancelled command GitError ABORTED once its child has exited.
 */
export function runGit(args: readonly string[], options: RunGitOptions): Promise<GitRunResult> {
  const what = `git ${args[0]}`;
  if (options.signal?.aborted) return Promise.reject(abortedError(what, options.signal));
  return new Promise((resolve, reject) => {
    const child = spawnGit(args, options.cwd, options.runtime);
    const unwatch = killOnAbort(child, options.signal);
    const chunks: Buffer[] = [];
    let collected = 0;
    let stderr = '';
    let failure: Error | undefined;
    const fail = (error: Error) => {
      failure ??= error;
      killGitGroup(child);
    };
    child.stdin.on('error', () => undefined); // a git that exited early surfaces through its exit code
    child.stdin.end(options.input);
    child.stdout.on('data', (chunk: Buffer) => {
      if (failure) return;
      try {
        if (options.onStdout) return options.onStdout(chunk);
      } catch (error) {
        return fail(error as Error);
      }
      collected += chunk.length;
      if (collected > MAX_COLLECTED_BYTES)
        return fail(new GitError(GitErrorCode.GIT_FAILED, `${what} produced more than ${MAX_COLLECTED_BYTES} bytes`));
      chunks.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < STDERR_KEEP) stderr += chunk.toString('utf8');
    });
    child.on('error', (error) => {
      failure ??= new GitError(GitErrorCode.GIT_FAILED, `Could not run git: ${error.message}`, { cause: error });
    });
    child.on('close', (code, signal) => {
      unwatch();
      if (options.signal?.aborted) return reject(abortedError(what, options.signal));
      if (failure) return reject(failure);
      const exitCode = code ?? -1;
      if (exitCode === 0 || options.okExitCodes?.includes(exitCode)) return resolve({ exitCode, stdout: Buffer.concat(chunks) });
      const lastLine = stderr.trim().split('\n').pop() ?? '';
      reject(
        new GitError(GitErrorCode.GIT_FAILED, `${what} failed (${signal ?? `exit ${exitCode}`}): ${lastLine}`, { detail: stderr.trim() }),
      );
    });
  });
}

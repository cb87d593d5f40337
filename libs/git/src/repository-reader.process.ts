import type { ChildProcess } from 'node:child_process';
import { GitError, GitErrorCode } from './git.error';
import { GitRuntimeOptions, killGitGroup, spawnGit } from './git-process';

export interface ReadGitOptions {
  readonly cwd: string;
  readonly runtime?: GitRuntimeOptions;
  /** Exit codes that are answers rather than failures (e.g. 1 from `rev-parse --verify --quiet`). */
  readonly okExitCodes?: readonly number[];
  /** Receives stdout as it arrives instead of collecting it (for outputs that may be large). */
  readonly onStdout?: (chunk: Buffer) => void;
  /** Written to git's stdin, which is then closed. */
  readonly input?: string;
  readonly signal?: AbortSignal;
}

const MAX_COLLECTED_BYTES = 64 * 1024 * 1024;
const STDERR_KEEP = 8 * 1024;

export function abortedError(what: string, signal?: AbortSignal): GitError {
  return new GitError(GitErrorCode.ABORTED, `${what} was cancelled`, { cause: signal?.reason });
}

/**
 * Kills `child` with SIGKILL when `signal` fires: the commands it is used for only read a
 * repository we cloned (or write a file we delete), so nothing is left half-done that matters.
 * Returns the function that stops watching.
 */
export function killOnAbort(child: ChildProcess, signal: AbortSignal | undefined): () => void {
  if (!signal) return () => undefined;
  const kill = () => killGitGroup(child);
  if (signal.aborted) kill();
  else signal.addEventListener('abort', kill, { once: true });
  return () => signal.removeEventListener('abort', kill);
}

/**
 * runGit (git-process.ts) plus an AbortSignal and stdin, for the reader's local, read-only
 * commands. A cancelled command rejects with GitError ABORTED once its child has exited.
 */
export function readGit(args: readonly string[], options: ReadGitOptions): Promise<{ exitCode: number; stdout: Buffer }> {
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

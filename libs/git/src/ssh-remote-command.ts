import { spawn } from 'node:child_process';
import { GitError, GitErrorCode } from './git.error';
import { dieWithParent, type GitRuntimeOptions, hardenedGitEnv, killGitGroup } from './git-process';
import { gitErrorFromStderr } from './git-stderr.mapper';
import type { VettedRepositoryUrl } from './url-policy';

/** What a command run on the SSH server answered; its exit status is the caller's to judge. */
export interface RemoteCommandResult {
  /** The command's exit status on the server, as ssh passes it through. */
  readonly exitCode: number;
  /** At most the requested number of bytes of its standard output. */
  readonly stdout: Buffer;
  /** It printed more than the requested bytes, and was stopped there. */
  readonly overflow: boolean;
  /** The start of its standard error (the server's words: show only after sanitising). */
  readonly stderr: string;
}

/** Everything the session already fixed: where, with which ssh, under which bounds. */
export interface RemoteCommandLaunch {
  readonly runtime: GitRuntimeOptions;
  /** The session's ssh invocation (sshConfig's argv): key, pinned host key, vetted address. */
  readonly sshArgv: readonly string[];
  readonly target: VettedRepositoryUrl;
  /** The operation's throw-away HOME, also the working directory. */
  readonly home: string;
  readonly signal: AbortSignal;
  readonly deadlineAt: number;
  readonly maxMemoryBytes: number;
  readonly graceSeconds: number;
}

/** ssh's own failures (connection, authentication, host key) exit with 255, never the command's. */
const SSH_OWN_FAILURE = 255;
/** What coreutils `timeout` exits with when its own deadline fired. */
const TIMEOUT_EXIT_CODE = 124;
const MAX_STDERR_BYTES = 16 * 1024;

/**
 * Runs one command on the SSH server of a session, as git runs `git-upload-pack` there: the
 * session's ssh (its own key, the pinned host key, the vetted address, hardened options) with
 * `-p <port> <user>@<host> <command>`, under the launcher git runs under (dies with this process,
 * memory cap, backstop deadline), in the hardened environment. The command text must already
 * be safe for a remote shell. ssh's own failures become the GitError git's would; a command that
 * ran resolves with its exit status and bounded output.
 */
export function runSshRemoteCommand(launch: RemoteCommandLaunch, command: string, maxStdoutBytes: number): Promise<RemoteCommandResult> {
  const { target, signal } = launch;
  if (target.protocol !== 'ssh:' || target.sshUser === undefined || launch.sshArgv.length === 0) {
    return Promise.reject(new GitError(GitErrorCode.INVALID_ARGUMENT, `${target.url} is not an SSH session: no command can run there`));
  }
  const backstopSeconds = Math.ceil(Math.max(0, launch.deadlineAt - Date.now()) / 1000) + launch.graceSeconds;
  const memoryCap = ['prlimit', `--data=${launch.maxMemoryBytes}:${launch.maxMemoryBytes}`, '--'];
  const [launcher = 'setpriv', ...launcherArgs] = dieWithParent(launch.graceSeconds, backstopSeconds, memoryCap);
  // As git calls it: options, then `-p`, the login, and the command as one argument.
  const args = [...launcherArgs, ...launch.sshArgv, '-p', String(target.port), `${target.sshUser}@${target.host}`, command];
  if (signal.aborted) return Promise.reject(signal.reason as Error);

  return new Promise((resolve, reject) => {
    const child = spawn(launcher, args, {
      cwd: launch.home,
      env: hardenedGitEnv(launch.home, launch.runtime),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let overflow = false;
    let stderr = '';
    const onAbort = (): void => killGitGroup(child);
    signal.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (chunk: Buffer) => {
      if (overflow) return;
      const room = maxStdoutBytes - stdoutBytes;
      stdout.push(chunk.subarray(0, Math.max(0, room)));
      stdoutBytes += Math.min(chunk.length, Math.max(0, room));
      if (chunk.length > room) {
        overflow = true;
        killGitGroup(child);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < MAX_STDERR_BYTES) stderr += chunk.toString('utf8').slice(0, MAX_STDERR_BYTES - stderr.length);
    });
    child.on('error', (error) => {
      signal.removeEventListener('abort', onAbort);
      reject(new GitError(GitErrorCode.GIT_FAILED, `Could not start ssh for ${target.url}: ${error.message}`, { cause: error }));
    });
    child.on('close', (code) => {
      signal.removeEventListener('abort', onAbort);
      if (signal.aborted) return reject(signal.reason as Error);
      const result = { exitCode: code ?? -1, stdout: Buffer.concat(stdout), overflow, stderr };
      if (overflow) return resolve(result);
      if (code === TIMEOUT_EXIT_CODE) {
        return reject(new GitError(GitErrorCode.TIMED_OUT, `The SSH command on ${target.url} overran its deadline and was killed`));
      }
      if (code === SSH_OWN_FAILURE) {
        return reject(
          gitErrorFromStderr(stderr || 'ssh failed', target.url, undefined, {
            maxMemoryBytes: launch.maxMemoryBytes,
            withCredential: true,
          }),
        );
      }
      resolve(result);
    });
  });
}

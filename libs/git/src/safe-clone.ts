import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { simpleGit } from 'simple-git';
import { directorySize } from './directory-size';
import { GitError, GitErrorCode } from './git.error';
import { dieWithParent, GitRuntimeOptions, hardenedGitEnv } from './git-process';
import { gitErrorFromStderr } from './git-stderr.mapper';
import { preflightRepository } from './redirect-preflight';
import type { UrlPolicy, VettedRepositoryUrl } from './url-policy';

export interface SafeClonerOptions extends GitRuntimeOptions {
  readonly policy: UrlPolicy;
  /**
   * Optional tighter bound on each preflight HTTP request, reported as TIMED_OUT. By default
   * only the clone's deadline bounds them, so a server that never answers ends TIMED_OUT.
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
  /** How often the clone's size is measured. Default 500 ms. */
  readonly sizePollIntervalMs?: number;
  /** Where git's throw-away HOME directories go unless a request says otherwise. Default the OS temp dir. */
  readonly tempDir?: string;
}

export const DEFAULT_CLONE_MAX_MEMORY_BYTES = 1024 ** 3;

export interface CloneRequest {
  /** As submitted; vetted again here, since DNS answers change between admission and cloning. */
  readonly url: string;
  /** Where the bare repository goes; must not exist or be empty. Removed again on failure. */
  readonly dir: string;
  /** Wall-clock budget for the whole clone (policy, preflight and git), in milliseconds. */
  readonly deadlineMs: number;
  /** Size cap of the bare repository on disk. */
  readonly maxBytes: number;
  readonly signal?: AbortSignal;
  /**
   * Where git's throw-away HOME directory (`archiver-git-home-*`) is made, e.g. inside the
   * attempt's own work dir so that whoever sweeps that dir sweeps it too. Default `tempDir`.
   */
  readonly scratchDir?: string;
}

export interface CloneResult {
  readonly gitDir: string;
  /** The URL actually fetched (differs from the request's after a vetted redirect). */
  readonly fetchedUrl: string;
  readonly normalizedUrl: string;
  readonly sizeBytes: number;
}

/*
 * Every value here makes the clone *safer* than git's defaults: only http(s) transports, no
 * hooks, no credential helper, no redirect git would follow on its own (the preflight follows
 * and vets them). simple-git flags some of these keys as "unsafe" because, given user input,
 * they could weaken git; we enable exactly those flags, and the user's URL only ever reaches
 * git after `--`, vetted and re-serialised.
 */
const HARDENED_CONFIG = [
  'protocol.allow=never',
  'protocol.http.allow=always',
  'protocol.https.allow=always',
  'core.hooksPath=/dev/null',
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
};

/** A bare, deadline- and size-bounded clone of a URL that anyone with an account may choose. */
export class SafeCloner {
  constructor(private readonly options: SafeClonerOptions) {}

  async clone(request: CloneRequest): Promise<CloneResult> {
    if (!(request.deadlineMs > 0) || !(request.maxBytes > 0)) {
      throw new GitError(GitErrorCode.INVALID_ARGUMENT, 'clone needs a positive deadlineMs and maxBytes');
    }
    const startedAt = Date.now();
    const dir = path.resolve(request.dir);
    const dirExisted = await prepareTarget(dir);
    const scratchDir = request.scratchDir ?? this.options.tempDir ?? tmpdir();
    await mkdir(scratchDir, { recursive: true });
    const home = await mkdtemp(path.join(scratchDir, 'archiver-git-home-'));

    // The first reason to stop wins; later errors (git dying of the kill) are its consequence.
    const controller = new AbortController();
    let stopReason: GitError | undefined;
    const stop = (reason: GitError): void => {
      stopReason ??= reason;
      controller.abort(stopReason);
    };
    const deadline = setTimeout(
      () =>
        stop(
          new GitError(
            GitErrorCode.TIMED_OUT,
            `Cloning ${request.url} took longer than ${request.deadlineMs} ms; the repository is too slow or too big to archive`,
          ),
        ),
      request.deadlineMs,
    );
    const onCallerAbort = (): void =>
      stop(new GitError(GitErrorCode.ABORTED, `Cloning ${request.url} was aborted`, { cause: request.signal?.reason }));
    if (request.signal?.aborted) onCallerAbort();
    request.signal?.addEventListener('abort', onCallerAbort, { once: true });

    try {
      const vetted = await untilAborted(this.options.policy.check(request.url), controller.signal);
      const target = await preflightRepository(vetted, {
        policy: this.options.policy,
        signal: controller.signal,
        requestTimeoutMs: this.options.preflightTimeoutMs,
        maxRedirects: this.options.maxRedirects ?? 5,
        maxAdvertisementBytes: this.options.maxAdvertisementBytes,
      });
      const tooLarge = (): GitError =>
        new GitError(GitErrorCode.TOO_LARGE, `Repository at ${target.url} is larger than the ${request.maxBytes}-byte limit for archives`);
      await this.watchSize(
        dir,
        request.maxBytes,
        () => stop(tooLarge()),
        () => this.runGitClone(target, dir, home, controller.signal, startedAt + request.deadlineMs),
      );
      const sizeBytes = await directorySize(dir);
      if (sizeBytes > request.maxBytes) throw tooLarge();
      if (stopReason) throw stopReason;
      return { gitDir: dir, fetchedUrl: target.url, normalizedUrl: target.normalizedUrl, sizeBytes };
    } catch (error) {
      const reason = stopReason ?? asGitError(error, request.url);
      await removeTarget(dir, dirExisted);
      throw reason;
    } finally {
      clearTimeout(deadline);
      request.signal?.removeEventListener('abort', onCallerAbort);
      await rm(home, { recursive: true, force: true });
    }
  }

  /*
   * simple-git stops a task by sending SIGINT to the process it spawned, but git clone's helpers
   * (git-remote-https, fetch-pack, index-pack) would live on as orphans, still downloading and
   * even re-creating the clone directory after we removed it. So git runs under coreutils
   * `timeout`, which gives it a process group of its own, forwards SIGINT and SIGTERM to the
   * whole group, and enforces the deadline by itself should this process stall. In front of it,
   * `setpriv` has the kernel send that SIGTERM when this process dies (even of SIGKILL), and
   * `prlimit` caps the memory of the whole group (inherited by every helper git starts), so a
   * server streaming an endless ref advertisement meets an allocation failure, not the host's
   * OOM killer. Each of them execs the next, so simple-git's SIGINT reaches `timeout` itself.
   */
  private async runGitClone(
    target: VettedRepositoryUrl,
    dir: string,
    home: string,
    signal: AbortSignal,
    deadlineAt: number,
  ): Promise<void> {
    const maxMemoryBytes = this.options.maxMemoryBytes ?? DEFAULT_CLONE_MAX_MEMORY_BYTES;
    const backstopSeconds = Math.ceil(Math.max(0, deadlineAt - Date.now()) / 1000) + BACKSTOP_GRACE_SECONDS;
    const memoryCap = ['prlimit', `--data=${maxMemoryBytes}:${maxMemoryBytes}`, '--'];
    const [launcher = 'setpriv', ...launcherArgs] = dieWithParent(BACKSTOP_GRACE_SECONDS, backstopSeconds, memoryCap);
    const env = hardenedGitEnv(home, this.options);
    const git = simpleGit({
      baseDir: path.dirname(dir),
      binary: launcher,
      abort: signal,
      allowEnvironment: Object.keys(env),
      unsafe: UNSAFE_FLAGS_WE_SET_SAFELY,
      // simple-git only reports failures that wrote to stderr; a git killed from outside must fail too.
      errors: (error, result) => {
        if (error || result.exitCode === 0) return error;
        if (result.exitCode === TIMEOUT_EXIT_CODE) return new Error(BACKSTOP_FIRED);
        const stderr = Buffer.concat(result.stdErr);
        return stderr.length > 0 ? stderr : new Error(`git clone exited with ${result.exitCode}`);
      },
    }).env(env);
    const config = [...HARDENED_CONFIG, ...pinnedResolveConfig(target)].flatMap((setting) => ['-c', setting]);
    try {
      await git.raw([
        ...launcherArgs,
        this.options.gitBinary ?? 'git',
        ...config,
        'clone',
        '--mirror',
        '--no-recurse-submodules',
        // Not --quiet: simple-git waits an extra 50 ms after a command that printed nothing
        // (its completion plugin), a third of a small repository's clone. Without a terminal
        // git prints one "Cloning into..." line and no progress.
        '--',
        target.url,
        dir,
      ]);
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      if (error instanceof Error && error.message.includes(BACKSTOP_FIRED)) {
        throw new GitError(GitErrorCode.TIMED_OUT, `Cloning ${target.url} overran its deadline and was killed`, { cause: error });
      }
      throw gitErrorFromStderr(error instanceof Error ? error.message : String(error), target.url, error, { maxMemoryBytes });
    }
  }

  /** Runs `work` while measuring `dir` every poll interval; calls `onTooLarge` once it is over. */
  private async watchSize<T>(dir: string, maxBytes: number, onTooLarge: () => void, work: () => Promise<T>): Promise<T> {
    let measuring = false;
    const poll = setInterval(() => {
      if (measuring) return;
      measuring = true;
      directorySize(dir, maxBytes)
        .then((bytes) => bytes > maxBytes && onTooLarge())
        .catch(() => undefined) // a failed measurement is retried on the next tick
        .finally(() => (measuring = false));
    }, this.options.sizePollIntervalMs ?? 500);
    try {
      return await work();
    } finally {
      clearInterval(poll);
    }
  }
}

/**
 * Pins each host to the addresses the policy vetted, so curl does not resolve it again (a DNS
 * rebinding attack would answer with 127.0.0.1 the second time). IP literals need no pinning.
 */
function pinnedResolveConfig(target: VettedRepositoryUrl): string[] {
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

function asGitError(error: unknown, url: string): GitError {
  if (error instanceof GitError) return error;
  return new GitError(GitErrorCode.GIT_FAILED, `Cloning ${url} failed: ${error instanceof Error ? error.message : String(error)}`, {
    cause: error,
  });
}

/** Returns whether `dir` already existed (empty); refuses to clone over anything in it. */
async function prepareTarget(dir: string): Promise<boolean> {
  await mkdir(path.dirname(dir), { recursive: true });
  try {
    const entries = await readdir(dir);
    if (entries.length > 0) throw new GitError(GitErrorCode.INVALID_ARGUMENT, `Clone target ${dir} is not empty`);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/** Leaves no partial repository behind for anyone to mistake for a clone. */
async function removeTarget(dir: string, keepEmptyDir: boolean): Promise<void> {
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
  if (keepEmptyDir) await mkdir(dir, { recursive: true });
}

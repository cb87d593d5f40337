import { access, mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { directorySize } from './directory-size';
import { GitError, GitErrorCode } from './git.error';
import { runGit, RunGitOptions } from './git-process';
import { GuardedGitOptions, RemoteGitAction, RemoteGitRequest, RemoteGitSession, withGuardedGit } from './guarded-git';
import { DEFAULT_MAX_ADVERTISEMENT_BYTES } from './redirect-preflight';
import { ListRemoteRefsRequest, parseLsRemote, RemoteHead, RemoteRefs, refsHash } from './remote-refs';
import type { GitRef } from './repository-reader.refs';

export { DEFAULT_CLONE_MAX_MEMORY_BYTES } from './guarded-git';
export { isSshKeyCredential } from './guarded-git';
export type { GuardedGitOptions, HttpCredential, RemoteCredential, RemoteGitRequest } from './guarded-git';

export interface SafeClonerOptions extends GuardedGitOptions {
  /** How often the clone's size is measured. Default 500 ms. */
  readonly sizePollIntervalMs?: number;
}

export interface CloneRequest extends RemoteGitRequest {
  /** Where the bare repository goes; must not exist or be empty. Removed again on failure. */
  readonly dir: string;
  /** Size cap of the bare repository on disk. */
  readonly maxBytes: number;
}

export interface CloneResult {
  readonly gitDir: string;
  /** The URL actually fetched (differs from the request's after a vetted redirect). */
  readonly fetchedUrl: string;
  readonly normalizedUrl: string;
  readonly sizeBytes: number;
}

export interface FetchIntoRequest extends RemoteGitRequest {
  /** An existing bare mirror (ours: made by clone() or an earlier fetchInto()). */
  readonly gitDir: string;
  /** Size cap of the whole bare repository on disk after the fetch, as for clone(). */
  readonly maxBytes: number;
}

export interface FetchIntoResult extends CloneResult {
  /** The remote's refs as advertised just before the fetch: the mirror's refs now equal these. */
  readonly refs: GitRef[];
  readonly head: RemoteHead | null;
}

const CLONING: RemoteGitAction = { verb: 'Cloning', tooSlow: 'the repository is too slow or too big to archive' };
const PROBING: RemoteGitAction = { verb: 'Listing the refs of', tooSlow: 'the server is too slow' };
const FETCHING: RemoteGitAction = { verb: 'Fetching', tooSlow: 'the repository is too slow or too big to archive' };

/*
 * Every ref of the remote, forced, and every local ref the remote no longer has pruned: after
 * the fetch the mirror's refs are the remote's, as a fresh `clone --mirror` would have them.
 * Tags come through the refspec, so tag auto-following (which could add nothing) is off.
 * `fetch.unpackLimit=1` keeps each fetch one pack, never thousands of loose files.
 */
const MIRROR_FETCH = ['-c', 'fetch.unpackLimit=1', 'fetch', '--prune', '--no-tags', '--no-write-fetch-head', '--no-recurse-submodules'];

/** A bare, deadline- and size-bounded clone of a URL that anyone with an account may choose. */
export class SafeCloner {
  constructor(private readonly options: SafeClonerOptions) {}

  async clone(request: CloneRequest): Promise<CloneResult> {
    if (!(request.deadlineMs > 0) || !(request.maxBytes > 0)) {
      throw new GitError(GitErrorCode.INVALID_ARGUMENT, 'clone needs a positive deadlineMs and maxBytes');
    }
    const dir = path.resolve(request.dir);
    const dirExisted = await prepareTarget(dir);
    try {
      return await withGuardedGit(this.options, request, CLONING, async ({ target, stop, git }) => {
        const tooLarge = (): GitError =>
          new GitError(
            GitErrorCode.TOO_LARGE,
            `Repository at ${target.url} is larger than the ${request.maxBytes}-byte limit for archives`,
          );
        await this.watchSize(
          dir,
          request.maxBytes,
          () => stop(tooLarge()),
          // Not --quiet: simple-git waits an extra 50 ms after a command that printed nothing
          // (its completion plugin), a third of a small repository's clone. Without a terminal
          // git prints one "Cloning into..." line and no progress.
          () => git(['clone', '--mirror', '--no-recurse-submodules', '--', target.url, dir], { cwd: path.dirname(dir) }),
        );
        const sizeBytes = await directorySize(dir);
        if (sizeBytes > request.maxBytes) throw tooLarge();
        return { gitDir: dir, fetchedUrl: target.url, normalizedUrl: target.normalizedUrl, sizeBytes };
      });
    } catch (error) {
      await removeTarget(dir, dirExisted);
      throw error;
    }
  }

  /**
   * The change probe: the remote's refs (`git ls-remote --symref`), with exactly the clone's
   * protections (policy, vetted redirects, advertisement cap, pinned addresses, launcher,
   * deadline, signal, error codes), and no pack fetched. Compare `refsHash` with
   * `refsHash(await reader.refs())` of the last snapshot to tell whether anything changed.
   */
  async listRemoteRefs(request: ListRemoteRefsRequest): Promise<RemoteRefs> {
    if (!(request.deadlineMs > 0)) throw new GitError(GitErrorCode.INVALID_ARGUMENT, 'listRemoteRefs needs a positive deadlineMs');
    return withGuardedGit(this.options, request, PROBING, async (session) => {
      const { refs, head } = await this.lsRemote(session);
      const { target } = session;
      return { refs, head, refsHash: refsHash(refs), fetchedUrl: target.url, normalizedUrl: target.normalizedUrl };
    });
  }

  /**
   * Brings an existing bare mirror up to the remote, through exactly the guard of clone() and
   * listRemoteRefs() (one session: policy, vetted redirects, pinned addresses, hardened git,
   * launcher, memory cap, deadline, signal, size cap, stderr codes). Afterwards its refs equal
   * the remote's (deleted branches and tags go) and HEAD names what the remote's names; objects
   * of earlier states may stay. On failure the mirror is left as git left it, possibly half
   * updated: callers must not trust it any more (MirrorCache discards it).
   */
  async fetchInto(request: FetchIntoRequest): Promise<FetchIntoResult> {
    if (!(request.deadlineMs > 0) || !(request.maxBytes > 0)) {
      throw new GitError(GitErrorCode.INVALID_ARGUMENT, 'fetchInto needs a positive deadlineMs and maxBytes');
    }
    const gitDir = path.resolve(request.gitDir);
    await access(path.join(gitDir, 'HEAD')).catch((error: unknown) => {
      throw new GitError(GitErrorCode.INVALID_ARGUMENT, `Fetch target ${gitDir} is not a bare repository`, { cause: error });
    });
    return withGuardedGit(this.options, request, FETCHING, async (session) => {
      const { target, home, stop, git } = session;
      const tooLarge = (): GitError =>
        new GitError(GitErrorCode.TOO_LARGE, `Repository at ${target.url} is larger than the ${request.maxBytes}-byte limit for archives`);
      // HEAD first: a fetch does not say which branch the remote's HEAD names, a clone does.
      const { refs, head } = await this.lsRemote(session);
      await this.watchSize(
        gitDir,
        request.maxBytes,
        () => stop(tooLarge()),
        () => git([`--git-dir=${gitDir}`, ...MIRROR_FETCH, '--', target.url, '+refs/*:refs/*'], { cwd: home }),
      );
      await pointHeadAt(head, target.url, { cwd: gitDir, signal: request.signal, runtime: this.options });
      const sizeBytes = await directorySize(gitDir);
      if (sizeBytes > request.maxBytes) throw tooLarge();
      return { gitDir, fetchedUrl: target.url, normalizedUrl: target.normalizedUrl, sizeBytes, refs, head };
    });
  }

  /** `git ls-remote --symref` in a guarded session, its output bounded by the advertisement cap. */
  private async lsRemote({ target, home, stop, git }: RemoteGitSession): Promise<Pick<RemoteRefs, 'refs' | 'head'>> {
    const maxOutputBytes = this.options.maxAdvertisementBytes ?? DEFAULT_MAX_ADVERTISEMENT_BYTES;
    const chunks: Buffer[] = [];
    let outputBytes = 0;
    // git prints the list only once it holds it all (bounded by its memory cap); this bounds our copy.
    const onStdout = (chunk: Buffer): void => {
      outputBytes += chunk.length;
      if (outputBytes <= maxOutputBytes) return void chunks.push(chunk);
      stop(
        new GitError(
          GitErrorCode.TOO_LARGE,
          `The refs of ${target.url} take more than ${maxOutputBytes} bytes; a repository with that many refs cannot be archived`,
        ),
      );
    };
    await git(['ls-remote', '--symref', '--', target.url], { cwd: home, onStdout });
    return parseLsRemote(Buffer.concat(chunks));
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
 * Makes the mirror's HEAD what the remote's is, as clone --mirror would: a symbolic ref to the
 * same branch, or detached at the same object. With no HEAD advertised (an empty remote) it is
 * left alone. A branch name git would be handed as text must survive as exact bytes.
 */
async function pointHeadAt(head: RemoteHead | null, url: string, local: RunGitOptions): Promise<void> {
  if (head?.target) {
    const { name, nameBytes } = head.target;
    if (!Buffer.from(name, 'utf8').equals(nameBytes)) {
      throw new GitError(
        GitErrorCode.GIT_FAILED,
        `The HEAD of ${url} names a branch that is not valid UTF-8; it cannot be set by fetching`,
      );
    }
    await runGit(['symbolic-ref', 'HEAD', name], local);
  } else if (head?.sha) {
    await runGit(['update-ref', '--no-deref', 'HEAD', head.sha], local);
  }
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

import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { directorySize } from './directory-size';
import { GitError, GitErrorCode } from './git.error';
import { GuardedGitOptions, RemoteGitAction, RemoteGitRequest, withGuardedGit } from './guarded-git';
import { DEFAULT_MAX_ADVERTISEMENT_BYTES } from './redirect-preflight';
import { ListRemoteRefsRequest, parseLsRemote, RemoteRefs, refsHash } from './remote-refs';

export { DEFAULT_CLONE_MAX_MEMORY_BYTES } from './guarded-git';
export type { GuardedGitOptions, RemoteGitRequest } from './guarded-git';

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

const CLONING: RemoteGitAction = { verb: 'Cloning', tooSlow: 'the repository is too slow or too big to archive' };
const PROBING: RemoteGitAction = { verb: 'Listing the refs of', tooSlow: 'the server is too slow' };

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
    const maxOutputBytes = this.options.maxAdvertisementBytes ?? DEFAULT_MAX_ADVERTISEMENT_BYTES;
    return withGuardedGit(this.options, request, PROBING, async ({ target, home, stop, git }) => {
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
      const { refs, head } = parseLsRemote(Buffer.concat(chunks));
      return { refs, head, refsHash: refsHash(refs), fetchedUrl: target.url, normalizedUrl: target.normalizedUrl };
    });
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

import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { GitError, GitErrorCode } from './git.error';
import { GitRuntimeOptions, runGit } from './git-process';

export interface BundleRestoreTarget {
  /** Every ref of the snapshot, exact names: set after the bundles, which may leave some out. */
  readonly refs: readonly { nameBytes: Buffer; sha: string }[];
  /** The branch HEAD names; null when HEAD is detached (then `detachedHead`, if any). */
  readonly headBranch: Buffer | null;
  readonly detachedHead: string | null;
}

const OBJECT_ID = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

/**
 * Rebuilds a snapshot into a new bare repository at `gitDir`: applies its bundles in order with
 * `git bundle unbundle` (which refuses a bundle whose prerequisites are missing), then sets every
 * ref from the manifest in one `update-ref --stdin` transaction (which refuses a ref whose object
 * is missing) — the same steps as the restore script, so what this proves, the script does too.
 */
export async function restoreFromBundles(
  gitDir: string,
  bundleFiles: readonly string[],
  target: BundleRestoreTarget,
  options: { signal?: AbortSignal; runtime?: GitRuntimeOptions; verify?: boolean } = {},
): Promise<void> {
  const run = (args: string[], input?: Buffer) => runGit(args, { cwd: gitDir, runtime: options.runtime, signal: options.signal, input });
  await mkdir(gitDir, { recursive: true });
  await run(['init', '--quiet', '--bare', '.']);
  for (const [index, file] of bundleFiles.entries()) {
    try {
      // verify reads only the header and checks the prerequisites are here: cheap, and its
      // message says which prerequisite is missing where unbundle would only fail.
      if (options.verify) await run(['bundle', 'verify', '--quiet', path.resolve(file)]);
      await run(['bundle', 'unbundle', path.resolve(file)]);
    } catch (error) {
      if (!GitError.isGitError(error, GitErrorCode.GIT_FAILED)) throw error;
      throw new BundleApplyError(index, error);
    }
  }
  for (const sha of [...target.refs.map((r) => r.sha), target.detachedHead ?? '0'.repeat(40)]) {
    if (!OBJECT_ID.test(sha)) throw new GitError(GitErrorCode.GIT_FAILED, `not an object id: ${JSON.stringify(sha)}`);
  }
  if (target.refs.length > 0) {
    await run(
      ['update-ref', '--stdin'],
      Buffer.concat(target.refs.flatMap(({ nameBytes, sha }) => [Buffer.from('create '), nameBytes, Buffer.from(` ${sha}\n`)])),
    );
  }
  // A branch name need not be UTF-8, and argv is text in Node: write HEAD as symbolic-ref would.
  if (target.headBranch)
    await writeFile(path.join(gitDir, 'HEAD'), Buffer.concat([Buffer.from('ref: '), target.headBranch, Buffer.from('\n')]));
  else if (target.detachedHead) await run(['update-ref', '--no-deref', 'HEAD', target.detachedHead]);
}

/** A bundle of the chain that git refused (`bundleIndex`: its place in the list, from 0). */
export class BundleApplyError extends GitError {
  constructor(
    readonly bundleIndex: number,
    cause: GitError,
  ) {
    super(GitErrorCode.CORRUPT_REPOSITORY, cause.message, { cause, detail: cause.detail });
  }
}

/**
 * `git fsck` of a repository we restored ourselves: every object reachable from the refs is
 * present and well formed. Resolves to null when it passes, else fsck's own report (its last
 * lines), so a failure names the broken object.
 */
export async function fsckRepository(
  gitDir: string,
  options: { signal?: AbortSignal; runtime?: GitRuntimeOptions } = {},
): Promise<string | null> {
  try {
    await runGit(['fsck', '--no-progress', '--no-dangling'], { cwd: gitDir, runtime: options.runtime, signal: options.signal });
    return null;
  } catch (error) {
    if (!GitError.isGitError(error, GitErrorCode.GIT_FAILED)) throw error;
    return (error.detail ?? error.message).split('\n').slice(-5).join('\n');
  }
}

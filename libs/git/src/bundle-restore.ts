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
  options: { signal?: AbortSignal; runtime?: GitRuntimeOptions } = {},
): Promise<void> {
  const run = (args: string[], input?: Buffer) => runGit(args, { cwd: gitDir, runtime: options.runtime, signal: options.signal, input });
  await mkdir(gitDir, { recursive: true });
  await run(['init', '--quiet', '--bare', '.']);
  for (const file of bundleFiles) await run(['bundle', 'unbundle', path.resolve(file)]);
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

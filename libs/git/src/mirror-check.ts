import { access } from 'node:fs/promises';
import path from 'node:path';
import { GitError, GitErrorCode } from './git.error';
import { GitRuntimeOptions, runGit } from './git-process';

export interface VerifyMirrorOptions {
  readonly runtime?: GitRuntimeOptions;
  readonly signal?: AbortSignal;
}

/**
 * Whether a bare mirror kept on local disk can still be built on: every object reachable from
 * its refs is present and parses (`git fsck --connectivity-only`, hardened environment). Throws
 * GitError CORRUPT_REPOSITORY when it cannot; ABORTED when the signal fires. It does not say the
 * refs are right: that is for whoever knows which refs to expect.
 */
export async function verifyMirror(gitDir: string, options: VerifyMirrorOptions = {}): Promise<void> {
  const dir = path.resolve(gitDir);
  // Without HEAD git would not take `dir` for a repository and look for one in its parents.
  await access(path.join(dir, 'HEAD')).catch((error: unknown) => {
    throw new GitError(GitErrorCode.CORRUPT_REPOSITORY, `The mirror at ${dir} is not a bare repository (no HEAD)`, { cause: error });
  });
  try {
    await runGit(['fsck', '--connectivity-only', '--no-dangling', '--no-progress'], { cwd: dir, ...options });
  } catch (error) {
    if (GitError.isGitError(error, GitErrorCode.ABORTED)) throw error;
    const detail = error instanceof GitError ? error.detail : String(error);
    throw new GitError(GitErrorCode.CORRUPT_REPOSITORY, `The mirror at ${dir} failed git fsck --connectivity-only`, {
      cause: error,
      detail,
    });
  }
}

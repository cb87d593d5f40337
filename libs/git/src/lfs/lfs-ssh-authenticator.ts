import { GitError, GitErrorCode } from '../git.error';
import { type GuardedGitOptions, type RemoteGitAction, type RemoteGitRequest, withGuardedGit } from '../guarded-git';
import type { VettedRepositoryUrl } from '../url-policy';
import { LfsMissingCode, type LfsMissingReason } from './lfs-missing';
import { type LfsSshAccessResult, MAX_LFS_AUTHENTICATE_ANSWER_BYTES, parseLfsAuthenticateAnswer, serverWords } from './lfs-ssh-access';

const ASKING: RemoteGitAction = { verb: 'Asking for the LFS access of', tooSlow: 'the SSH server did not answer git-lfs-authenticate' };

// Path segments are already restricted by parseSshUrl; this is the last check before a remote shell sees it.
const REMOTE_PATH = /^\/?[A-Za-z0-9_.~+-]+(\/[A-Za-z0-9_.~+-]+)*$/;

/**
 * The LFS API of an SSH remote, found as git-lfs finds it: `git-lfs-authenticate <path> download`
 * run on the server through the session of withGuardedGit, i.e. the clone's own ssh (the vetted
 * address, the pinned host key, the deploy key file, the hardened options, the launcher and a
 * deadline), so no second ssh command line exists and the key never leaves its mode-600 file.
 * Whatever goes wrong becomes a reason for the objects, never a failed visit; only the caller's
 * abort is rethrown.
 */
export class LfsSshAuthenticator {
  constructor(
    private readonly guard: GuardedGitOptions,
    private readonly now: () => number = Date.now,
  ) {}

  async access(request: RemoteGitRequest): Promise<LfsSshAccessResult> {
    try {
      return await withGuardedGit(this.guard, request, ASKING, async (session) => {
        const command = lfsAuthenticateCommand(session.target);
        const result = await session.sshCommand(command, { maxStdoutBytes: MAX_LFS_AUTHENTICATE_ANSWER_BYTES });
        if (result.overflow) {
          return missing(
            LfsMissingCode.INVALID_ANSWER,
            `git-lfs-authenticate answered more than ${MAX_LFS_AUTHENTICATE_ANSWER_BYTES} bytes`,
          );
        }
        if (result.exitCode !== 0) {
          return missing(
            LfsMissingCode.UNSUPPORTED_TRANSPORT,
            `the SSH server refused git-lfs-authenticate (exit ${result.exitCode}: ${serverWords(result.stderr)}), so it names no LFS ` +
              'server for this repository; archive the repository by its https URL to include its LFS objects',
          );
        }
        return parseLfsAuthenticateAnswer(result.stdout, this.now());
      });
    } catch (error) {
      request.signal?.throwIfAborted();
      return { missing: reasonOfSshFailure(error) };
    }
  }
}

/** `git-lfs-authenticate '<path>' download`, the path as git sends it for upload-pack (leading `/` of ssh:// kept). */
export function lfsAuthenticateCommand(target: Pick<VettedRepositoryUrl, 'url' | 'protocol'>): string {
  const path = sshRemotePath(target.url);
  if (target.protocol !== 'ssh:' || path === undefined || !REMOTE_PATH.test(path)) {
    throw new GitError(GitErrorCode.INVALID_ARGUMENT, `${target.url} has no SSH repository path git-lfs-authenticate can be asked about`);
  }
  return `git-lfs-authenticate '${path}' download`;
}

/** The path part of parseSshUrl's `ssh://user@host:port/path` or scp-like `user@host:path` (host maybe `[v6]`). */
function sshRemotePath(url: string): string | undefined {
  if (/^ssh:\/\//i.test(url)) {
    const slash = url.indexOf('/', 'ssh://'.length);
    return slash < 0 ? undefined : url.slice(slash);
  }
  const at = url.indexOf('@');
  if (at < 0) return undefined;
  const hostEnd = url[at + 1] === '[' ? url.indexOf(']', at) + 1 : at + 1;
  const colon = url.indexOf(':', hostEnd);
  return colon < 0 || hostEnd === 0 ? undefined : url.slice(colon + 1);
}

function missing(code: LfsMissingCode, message: string): { missing: LfsMissingReason } {
  return { missing: { code, message } };
}

/** ssh could not ask (the clone, moments ago, could): why, as the objects' reason. */
function reasonOfSshFailure(error: unknown): LfsMissingReason {
  const said = error instanceof Error ? error.message : String(error);
  const message = `asking the SSH server for LFS access (git-lfs-authenticate) failed: ${said}`;
  if (!(error instanceof GitError)) return { code: LfsMissingCode.NETWORK, message };
  switch (error.code) {
    case GitErrorCode.TIMED_OUT:
      return { code: LfsMissingCode.TIMED_OUT, message };
    case GitErrorCode.AUTH_REQUIRED:
    case GitErrorCode.HOST_KEY_CHANGED:
      return { code: LfsMissingCode.AUTH_REFUSED, message };
    case GitErrorCode.BLOCKED_BY_POLICY:
    case GitErrorCode.INVALID_URL:
      return { code: LfsMissingCode.BLOCKED_BY_POLICY, message };
    default:
      return { code: LfsMissingCode.NETWORK, message };
  }
}

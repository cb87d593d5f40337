import { GitError, GitErrorCode } from '../git.error';
import { LfsMissingCode, type LfsMissingReason } from './lfs-missing';

/**
 * Where a repository's LFS API is, as git-lfs derives it: `lfs.url` from the repository's
 * `.lfsconfig` when it sets one (any http(s) URL, vetted like everything else), else the
 * remote's URL with `.git` ensured and `/info/lfs` appended; for an SSH remote, whatever
 * `git-lfs-authenticate` over SSH answers (`sshAuthenticate`: see LfsSshAuthenticator).
 */
export function lfsEndpointFor(
  remoteUrl: string,
  lfsUrl?: string,
): { endpoint: string } | { missing: LfsMissingReason } | { sshAuthenticate: true } {
  if (lfsUrl !== undefined) {
    let parsed: URL;
    try {
      parsed = new URL(lfsUrl);
    } catch {
      return {
        missing: {
          code: LfsMissingCode.INVALID_ANSWER,
          message: `the repository's .lfsconfig sets lfs.url to something that is not a URL`,
        },
      };
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
      return {
        missing: {
          code: LfsMissingCode.UNSUPPORTED_TRANSPORT,
          message: `the repository's .lfsconfig sets lfs.url to a ${parsed.protocol} URL; only http(s) LFS servers are fetched from`,
        },
      };
    }
    if (parsed.username !== '' || parsed.password !== '' || parsed.search !== '' || parsed.hash !== '') {
      return {
        missing: {
          code: LfsMissingCode.INVALID_ANSWER,
          message: "the repository's .lfsconfig lfs.url carries credentials, a query or a fragment",
        },
      };
    }
    return { endpoint: parsed.href.replace(/\/+$/, '') };
  }
  if (!/^https?:\/\//i.test(remoteUrl)) return { sshAuthenticate: true };
  const base = remoteUrl.replace(/\/+$/, '');
  return { endpoint: `${base.endsWith('.git') ? base : `${base}.git`}/info/lfs` };
}

/** `http(s)://host:port/`: what the URL policy vets for an LFS connection (queries and paths are not its business). */
export function originToVet(url: URL): string {
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new GitError(GitErrorCode.INVALID_URL, `An LFS address must be http(s), not ${url.protocol}`);
  }
  return `${url.protocol}//${url.host}/`;
}

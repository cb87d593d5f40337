import { createHash } from 'node:crypto';
import { GitError, GitErrorCode } from './git.error';
import type { RemoteGitRequest } from './guarded-git';
import { type GitRef, outputLines, refName } from './repository-reader.refs';

export type ListRemoteRefsRequest = RemoteGitRequest;

/** What the remote's HEAD is: a branch name (usually), and the object it leads to. */
export interface RemoteHead {
  /** The object HEAD leads to; null when it names a branch that does not exist. */
  readonly sha: string | null;
  /** The ref HEAD is a symbolic ref to (e.g. `refs/heads/main`); absent for a detached HEAD. */
  readonly target?: { readonly name: string; readonly nameBytes: Buffer };
}

export interface RemoteRefs {
  /**
   * Every ref the server advertised under `refs/` (branches, tags, notes, pull refs...), sorted
   * by name bytes. `peeledSha` is the fully peeled object (`<ref>^{}`: for a tag of a tag, the
   * commit at the end of the chain, where for-each-ref's `%(*objectname)` stops one level in).
   */
  readonly refs: GitRef[];
  /** HEAD, kept out of `refs` (and of the hash): null when the server advertised none. */
  readonly head: RemoteHead | null;
  /** `refsHash(refs)`. */
  readonly refsHash: string;
  /** The URL actually asked (differs from the request's after a vetted redirect). */
  readonly fetchedUrl: string;
  readonly normalizedUrl: string;
}

const REFS_PREFIX = Buffer.from('refs/');
const HEAD = Buffer.from('HEAD');
const PEELED_SUFFIX = Buffer.from('^{}');
const SYMREF_PREFIX = Buffer.from('ref: ');
const OBJECT_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/**
 * The identity of a set of refs, the same whoever lists them: a probe (`git ls-remote`) and a
 * mirror clone read with RepositoryReader.refs() give the same hash for the same refs. It is
 * the SHA-256 (hex) of, for each ref whose name starts with `refs/`, sorted by name bytes:
 * `<name bytes> NUL <object id in lowercase hex> LF`. Left out, on purpose:
 * - HEAD and anything else outside `refs/`: a mirror clone's HEAD is a symbolic ref of its
 *   own, and ls-remote lists HEAD as if it were a ref;
 * - peeled ids: a tag object's id already fixes what it points at, and the two listings peel
 *   tags of tags to different depths.
 * Names never contain NUL or LF, so the encoding is unambiguous.
 */
export function refsHash(refs: readonly Pick<GitRef, 'nameBytes' | 'sha'>[]): string {
  const hash = createHash('sha256');
  const sorted = refs.filter((r) => startsWith(r.nameBytes, REFS_PREFIX)).sort((a, b) => Buffer.compare(a.nameBytes, b.nameBytes));
  for (const ref of sorted) {
    hash.update(ref.nameBytes);
    hash.update(Buffer.from([0]));
    hash.update(`${ref.sha.toLowerCase()}\n`, 'latin1');
  }
  return hash.digest('hex');
}

/**
 * Parses `git ls-remote --symref` output: `<id> TAB <name>`, `<id> TAB <name>^{}` (the peeled
 * object of the tag just named) and `ref: <target> TAB <name>` (a symbolic ref; only HEAD's is
 * kept, the others are listed again as plain refs). Names are bytes, as the server sent them.
 */
export function parseLsRemote(stdout: Buffer): Pick<RemoteRefs, 'refs' | 'head'> {
  const byName = new Map<string, { nameBytes: Buffer; sha: string; peeledSha?: string }>();
  let headSha: string | null = null;
  let headTarget: Buffer | undefined;
  let sawHead = false;
  for (const line of outputLines(stdout)) {
    const tab = line.indexOf(0x09);
    if (tab < 0) throw unexpectedLine(line);
    const value = line.subarray(0, tab);
    const name = line.subarray(tab + 1);
    if (startsWith(value, SYMREF_PREFIX)) {
      if (name.equals(HEAD)) headTarget = Buffer.from(value.subarray(SYMREF_PREFIX.length));
      sawHead ||= name.equals(HEAD);
      continue;
    }
    const sha = value.toString('latin1');
    if (!OBJECT_ID.test(sha) || name.length === 0) throw unexpectedLine(line);
    if (name.equals(HEAD)) {
      headSha = sha;
      sawHead = true;
      continue;
    }
    if (endsWith(name, PEELED_SUFFIX)) {
      const tagName = name.subarray(0, name.length - PEELED_SUFFIX.length);
      const tag = byName.get(tagName.toString('latin1'));
      if (tag) tag.peeledSha = sha;
      else if (startsWith(tagName, REFS_PREFIX)) throw unexpectedLine(line);
      continue;
    }
    if (!startsWith(name, REFS_PREFIX)) continue;
    byName.set(name.toString('latin1'), { nameBytes: Buffer.from(name), sha });
  }
  const refs = [...byName.values()]
    .sort((a, b) => Buffer.compare(a.nameBytes, b.nameBytes))
    .map(({ nameBytes, sha, peeledSha }): GitRef => ({ ...refName(nameBytes), sha, ...(peeledSha ? { peeledSha } : {}) }));
  const head = sawHead ? { sha: headSha, ...(headTarget ? { target: refName(headTarget) } : {}) } : null;
  return { refs, head };
}

function unexpectedLine(line: Buffer): GitError {
  return new GitError(GitErrorCode.GIT_FAILED, `Unexpected git ls-remote line: ${line.toString('utf8').slice(0, 200)}`);
}

function startsWith(bytes: Buffer, prefix: Buffer): boolean {
  return bytes.length >= prefix.length && bytes.subarray(0, prefix.length).equals(prefix);
}

function endsWith(bytes: Buffer, suffix: Buffer): boolean {
  return bytes.length >= suffix.length && bytes.subarray(bytes.length - suffix.length).equals(suffix);
}

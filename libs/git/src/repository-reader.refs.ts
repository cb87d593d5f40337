import { GitError, GitErrorCode } from './git.error';

export interface GitRef {
  /** Full name, e.g. `refs/heads/main`, as text: invalid UTF-8 bytes become U+FFFD (see `nameBytes`). */
  readonly name: string;
  /** The name exactly as git stores it: ref names are bytes, not necessarily UTF-8. */
  readonly nameBytes: Buffer;
  /** What the ref points at (the tag object for annotated tags). */
  readonly sha: string;
  /** For annotated tags: the object the tag points at. */
  readonly peeledSha?: string;
}

export interface ListedRef {
  readonly ref: GitRef;
  /** Object type of `sha` (`commit`, `tag`, `tree`, `blob`). */
  readonly type: string;
  /** For tags: the type of `peeledSha`; `tag` again for a tag of a tag. */
  readonly peeledType: string;
  /** HEAD is a symbolic ref to this one. */
  readonly isHead: boolean;
}

/** A ref's name as git stores it, and as text for people (invalid UTF-8 becomes U+FFFD). */
export function refName(nameBytes: Buffer): Pick<GitRef, 'name' | 'nameBytes'> {
  return { name: nameBytes.toString('utf8'), nameBytes };
}

/** Fields end with NUL; the name comes last, as raw bytes (git forbids NUL and LF in ref names). */
export const LIST_REFS_FORMAT = '--format=%(objectname)%00%(objecttype)%00%(*objectname)%00%(*objecttype)%00%(HEAD)%00%(refname)';

/** The non-empty LF-terminated lines of git's output, as bytes (names in them need not be UTF-8). */
export function* outputLines(stdout: Buffer): Generator<Buffer> {
  for (let start = 0; start < stdout.length;) {
    let end = stdout.indexOf(0x0a, start);
    if (end < 0) end = stdout.length;
    const line = stdout.subarray(start, end);
    start = end + 1;
    if (line.length > 0) yield line;
  }
}

export function parseRefList(stdout: Buffer): ListedRef[] {
  const listed: ListedRef[] = [];
  for (const line of outputLines(stdout)) {
    const fields: string[] = [];
    let at = 0;
    for (let i = 0; i < 5; i++) {
      const nul = line.indexOf(0, at);
      if (nul < 0) throw new GitError(GitErrorCode.GIT_FAILED, `Unexpected git for-each-ref line: ${line.toString('utf8').slice(0, 200)}`);
      fields.push(line.subarray(at, nul).toString('latin1'));
      at = nul + 1;
    }
    const [sha = '', type = '', peeled = '', peeledType = '', head = ''] = fields;
    const { name, nameBytes } = refName(Buffer.from(line.subarray(at)));
    const ref: GitRef = peeled === '' ? { name, nameBytes, sha } : { name, nameBytes, sha, peeledSha: peeled };
    listed.push({ ref, type, peeledType, isHead: head === '*' });
  }
  return listed;
}

/** The commit a ref leads to when for-each-ref already says; undefined when a tag of a tag needs peeling further. */
export function knownCommit(listed: ListedRef): string | null | undefined {
  if (listed.type === 'commit') return listed.ref.sha;
  if (listed.type !== 'tag') return null;
  if (listed.peeledType === 'commit') return listed.ref.peeledSha ?? null;
  return listed.peeledType === 'tag' ? undefined : null;
}

const MAIN = Buffer.from('refs/heads/main');
const MASTER = Buffer.from('refs/heads/master');
const HEADS = Buffer.from('refs/heads/');
const TAGS = Buffer.from('refs/tags/');

/**
 * Which ref's files to store when HEAD does not lead to a commit (it names a branch that does
 * not exist, or something that is not a commit), in this order: refs/heads/main,
 * refs/heads/master, the first branch by name, the newest tag (`tagsNewestFirst`), then any
 * other ref by name (refs/pull/..., refs/notes/...). Only refs that lead to a commit count.
 * Null when none does: the repository is empty.
 */
export async function chooseFallbackRef<T extends { ref: GitRef; commit: string | null }>(
  refs: readonly T[],
  tagsNewestFirst: (tags: readonly T[]) => Promise<readonly T[]>,
): Promise<T | null> {
  const withCommit = refs.filter((r) => r.commit !== null).sort((a, b) => Buffer.compare(a.ref.nameBytes, b.ref.nameBytes));
  const named = (name: Buffer) => withCommit.find((r) => r.ref.nameBytes.equals(name));
  const under = (folder: Buffer) => withCommit.filter((r) => r.ref.nameBytes.subarray(0, folder.length).equals(folder));
  const branch = named(MAIN) ?? named(MASTER) ?? under(HEADS)[0];
  if (branch) return branch;
  const tags = under(TAGS);
  if (tags.length > 0) return (await tagsNewestFirst(tags))[0] ?? null;
  return withCommit[0] ?? null;
}

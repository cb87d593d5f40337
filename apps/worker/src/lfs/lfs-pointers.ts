import { type GitRef, type LfsPointer, MAX_POINTER_BYTES, parseLfsPointer, type RepositoryReader, type TreeEntry } from '@archiver/git';

/** A pointer found in a tree: where, and which object it names. */
export interface FoundPointer extends LfsPointer {
  readonly pathBytes: Buffer;
  /** The ref whose tip holds it; absent for the stored (HEAD) tree. */
  readonly ref?: string;
}

export interface FoundPointers {
  readonly pointers: FoundPointer[];
  /** `lfs.url` of the stored tree's `.lfsconfig`, when it sets one. */
  readonly lfsUrl?: string;
}

const LFSCONFIG = '.lfsconfig';
const SYMLINK_MODE = '120000';

/**
 * The LFS pointers of the stored commit's tree and, with `allRefs`, of every ref's tip (each
 * distinct commit read once). Only blobs small enough to be pointers are read, and each is
 * parsed as the spec says (parseLfsPointer), whatever `.gitattributes` claims.
 */
export async function findLfsPointers(
  reader: RepositoryReader,
  commit: string | null,
  refs: readonly GitRef[],
  options: { allRefs: boolean; signal: AbortSignal },
): Promise<FoundPointers> {
  const trees: { commit: string; ref?: string }[] = commit ? [{ commit }] : [];
  if (options.allRefs) {
    const seen = new Set(trees.map((t) => t.commit));
    for (const ref of refs) {
      const tip = ref.peeledSha ?? ref.sha;
      if (seen.has(tip)) continue;
      seen.add(tip);
      trees.push({ commit: tip, ref: ref.name });
    }
  }
  const pointers: FoundPointer[] = [];
  let lfsUrl: string | undefined;
  for (const tree of trees) {
    let entries: TreeEntry[];
    try {
      entries = await reader.listTree(tree.commit, { signal: options.signal });
    } catch (error) {
      // A tag may point at a tree or blob rather than a commit: it has no files to look at.
      if (tree.ref !== undefined) continue;
      throw error;
    }
    const candidates = entries.filter((e) => e.mode !== SYMLINK_MODE && e.size > 0 && e.size <= MAX_POINTER_BYTES);
    const isConfig = (e: TreeEntry) => tree.ref === undefined && e.pathBytes.toString('latin1') === LFSCONFIG;
    for await (const { entry, stream } of reader.blobs(candidates, { signal: options.signal })) {
      const bytes = await readSmall(stream);
      if (isConfig(entry)) lfsUrl = lfsUrlOf(bytes.toString('utf8'));
      const pointer = parseLfsPointer(bytes);
      if (pointer) pointers.push({ ...pointer, pathBytes: entry.pathBytes, ...(tree.ref !== undefined && { ref: tree.ref }) });
    }
  }
  return { pointers, ...(lfsUrl !== undefined && { lfsUrl }) };
}

/**
 * `lfs.url` of a `.lfsconfig` (git config syntax): the `url` key of the `[lfs]` section, a
 * value optionally in double quotes. Includes, subsections and continuation lines are not
 * followed; such a file leaves the default endpoint.
 */
export function lfsUrlOf(text: string): string | undefined {
  let inLfs = false;
  let url: string | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[\s*([A-Za-z0-9.-]+)\s*\]/.exec(line);
    if (section) {
      inLfs = section[1].toLowerCase() === 'lfs';
      continue;
    }
    if (line.startsWith('[')) {
      inLfs = false;
      continue;
    }
    const setting = /^url\s*=\s*(.*)$/i.exec(line);
    if (inLfs && setting)
      url = setting[1]
        .replace(/\s+[#;].*$/, '')
        .replace(/^"(.*)"$/, '$1')
        .trim();
  }
  return url === '' ? undefined : url;
}

async function readSmall(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

import { exactText, type SnapshotFileEntry, type TreeListingEntry } from '@archiver/storage';

export type TreeEntryType = 'dir' | 'file' | 'symlink' | 'executable';

/** One name in a directory listing; `nameBase64` only when the name's bytes are not UTF-8. */
export interface TreeEntryView {
  name: string;
  nameBase64?: string;
  type: TreeEntryType;
  /** Bytes of a file (for a symlink: of its target text); absent for directories. */
  size?: number;
  /** Git mode: `040000` for directories, else the file's own. */
  mode: string;
  /**
   * Set for a Git LFS pointer: `size` is then what `files/` serves — the object's real size
   * when it is stored, the pointer's when it is missing (see `lfsMissing`).
   */
  lfs?: true;
  lfsStatus?: 'stored' | 'missing';
  /** The object's size as its pointer declares it. */
  lfsSize?: number;
  lfsMissing?: { code: string; message: string };
}

export interface TreeDirectory {
  readonly kind: 'dir';
  /** By name bytes (as latin1 text, which maps every byte to one char and back). */
  readonly children: Map<string, TreeNode>;
}

export interface TreeFile {
  readonly kind: 'file';
  readonly entry: SnapshotFileEntry;
}

export type TreeNode = TreeDirectory | TreeFile;

const SLASH = 0x2f;
const DIR_MODE = '040000';
const TYPE_BY_MODE: Record<string, TreeEntryType> = { '100644': 'file', '100755': 'executable', '120000': 'symlink' };

/**
 * The HEAD tree of a snapshot, rebuilt from its manifest's flat `files` list. Git stores no
 * empty directories, so every directory here holds at least one file. Names are bytes: a path
 * is looked up by its exact bytes, whatever their encoding.
 */
export class SnapshotTree {
  private constructor(readonly root: TreeDirectory) {}

  static fromFiles(files: readonly SnapshotFileEntry[]): SnapshotTree {
    const root: TreeDirectory = { kind: 'dir', children: new Map() };
    for (const entry of files) {
      const segments = splitPath(pathBytesOf(entry));
      let dir: TreeDirectory | undefined = root;
      for (const segment of segments.slice(0, -1)) {
        const key = segment.toString('latin1');
        const existing: TreeNode | undefined = dir.children.get(key);
        if (existing === undefined) {
          const created: TreeDirectory = { kind: 'dir', children: new Map() };
          dir.children.set(key, created);
          dir = created;
        } else {
          // A crafted tree can name a file and a directory alike; git's own tools show the
          // first, and so does this view (every entry stays in the manifest and the bundle).
          dir = existing.kind === 'dir' ? existing : undefined;
          if (dir === undefined) break;
        }
      }
      const name = segments.at(-1)!.toString('latin1');
      if (dir !== undefined && !dir.children.has(name)) dir.children.set(name, { kind: 'file', entry });
    }
    return new SnapshotTree(root);
  }

  /** The node at `pathBytes` (empty = the root), or undefined. */
  lookup(pathBytes: Buffer): TreeNode | undefined {
    let node: TreeNode = this.root;
    for (const segment of splitPath(pathBytes)) {
      if (node.kind !== 'dir') return undefined;
      const child = node.children.get(segment.toString('latin1'));
      if (child === undefined) return undefined;
      node = child;
    }
    return node;
  }
}

/** A directory's entries: directories first, then by name bytes (git's own order within each group). */
export function listDirectory(dir: TreeDirectory): TreeEntryView[] {
  const entries = [...dir.children.entries()].map(([key, node]) => ({ bytes: Buffer.from(key, 'latin1'), node }));
  entries.sort((a, b) => Number(b.node.kind === 'dir') - Number(a.node.kind === 'dir') || Buffer.compare(a.bytes, b.bytes));
  return entries.map(({ bytes, node }) => {
    const name = exactText(bytes);
    const named = { name: name.text, ...(name.base64 !== undefined && { nameBase64: name.base64 }) };
    if (node.kind === 'dir') return { ...named, type: 'dir', mode: DIR_MODE };
    return { ...named, type: TYPE_BY_MODE[node.entry.mode] ?? 'file', size: node.entry.size, mode: node.entry.mode };
  });
}

/**
 * A v4 directory listing as the API shows it, ordered like listDirectory. Submodules are left
 * out as they always were (their commits are in another repository, never fetched), and of two
 * entries with one name (a crafted tree) the first is shown, as git's own tools do.
 */
export function listListing(entries: readonly TreeListingEntry[]): TreeEntryView[] {
  const byName = new Map<string, TreeListingEntry>();
  for (const entry of entries) {
    const key = entry.nameBytes.toString('latin1');
    if (entry.type !== 'commit' && !byName.has(key)) byName.set(key, entry);
  }
  const shown = [...byName.values()];
  shown.sort((a, b) => Number(b.type === 'tree') - Number(a.type === 'tree') || Buffer.compare(a.nameBytes, b.nameBytes));
  return shown.map((entry) => {
    const name = exactText(entry.nameBytes);
    const named = { name: name.text, ...(name.base64 !== undefined && { nameBase64: name.base64 }) };
    if (entry.type === 'tree') return { ...named, type: 'dir', mode: DIR_MODE };
    return { ...named, type: TYPE_BY_MODE[entry.mode] ?? 'file', size: entry.size, mode: entry.mode };
  });
}

/** The exact bytes of a manifest entry's path. */
export function pathBytesOf(entry: Pick<SnapshotFileEntry, 'path' | 'pathBase64'>): Buffer {
  return entry.pathBase64 !== undefined ? Buffer.from(entry.pathBase64, 'base64') : Buffer.from(entry.path, 'utf8');
}

/** `a/b/c` → [a, b, c]; the empty path → []. */
function splitPath(bytes: Buffer): Buffer[] {
  if (bytes.length === 0) return [];
  const segments: Buffer[] = [];
  let start = 0;
  for (let i = 0; i <= bytes.length; i++) {
    if (i === bytes.length || bytes[i] === SLASH) {
      segments.push(bytes.subarray(start, i));
      start = i + 1;
    }
  }
  return segments;
}

import type { Readable } from 'node:stream';
import { LATEST_FOLDER } from './latest-view';
import { exactText } from './object-key-rules';
import { objectKey } from './repository-objects';
import { SnapshotKeyAllocator } from './snapshot-key.allocator';
import { readSnapshotManifest, type SnapshotFileEntry, type SnapshotManifest } from './snapshot-manifest';
import { readTreeListing, type TreeListingEntry, treeListingKey } from './tree-listing';

/**
 * The one place that knows how a snapshot lists its files: a v4 manifest names a root tree
 * whose listings (trees/) are walked; v2/v3 manifests carry a flat `files` array. Everything
 * that reads a snapshot's files (the blobs stored already, the latest/ view, browsing, restore
 * drills, retention) goes through here.
 */

type ObjectReader = { getObject(bucket: string, key: string): Promise<Readable> };

/** Reads the listing of a tree by id; browsing wraps it in a cache (listings never change). */
export type TreeListingSource = (treeId: string) => Promise<readonly TreeListingEntry[]>;

export interface WalkOptions {
  /** Listings fetched ahead of the walk at once (default 8). */
  concurrency?: number;
  /** Where listings come from (default: the bucket, uncached). */
  listings?: TreeListingSource;
}

const DEFAULT_CONCURRENCY = 8;
const SLASH = Buffer.from('/');

/** Version 4 and later name a root tree instead of listing `files`. */
export function listsFilesByTree(manifest: Pick<SnapshotManifest, 'version'>): boolean {
  return manifest.version >= 4;
}

export function bucketListings(store: ObjectReader, bucket: string): TreeListingSource {
  return (treeId) => readTreeListing(store, bucket, treeId);
}

/** `source` with each listing read at most once (for one task; nothing is ever evicted). */
export function onceEach(source: TreeListingSource): TreeListingSource {
  const read = new Map<string, Promise<readonly TreeListingEntry[]>>();
  return (treeId) => {
    let listing = read.get(treeId);
    if (listing === undefined) {
      listing = source(treeId);
      read.set(treeId, listing);
      // A failed read is not remembered: the next caller tries again.
      listing.catch(() => read.delete(treeId));
    }
    return listing;
  };
}

/** The manifest that holds the content of `manifest`: itself, or the one an unchanged visit's `contentFrom` names. */
export async function contentManifestOf(store: ObjectReader, bucket: string, manifest: SnapshotManifest): Promise<SnapshotManifest> {
  if (!manifest.contentFrom) return manifest;
  return readSnapshotManifest(store, bucket, manifest.contentFrom.prefix);
}

/**
 * Every file of a snapshot's content manifest (call contentManifestOf first for an unchanged
 * visit), in git's tree order (that of `git ls-tree -r`), each with the key of its bytes.
 * From v4 listings each entry's `mappedBecause` is recomputed as the writer computed it (the
 * latest/ view's rules, in tree order) and `sha256` is absent. Submodules are not files.
 * Memory: the listings on the current path plus those fetched ahead.
 */
export async function* walkSnapshotFiles(
  store: ObjectReader,
  bucket: string,
  manifest: Pick<SnapshotManifest, 'version' | 'files' | 'tree'>,
  options: WalkOptions = {},
): AsyncGenerator<SnapshotFileEntry> {
  if (!listsFilesByTree(manifest)) {
    yield* manifest.files ?? [];
    return;
  }
  if (!manifest.tree) return;
  const ahead = new ListingPrefetch(options.listings ?? bucketListings(store, bucket), options.concurrency ?? DEFAULT_CONCURRENCY);
  const latestKeys = new SnapshotKeyAllocator(LATEST_FOLDER);
  // Explicit stack: a crafted tree may nest deeper than the call stack would allow.
  const stack: { entries: readonly TreeListingEntry[]; next: number; path: Buffer }[] = [
    { entries: await ahead.take(manifest.tree), next: 0, path: Buffer.alloc(0) },
  ];
  while (stack.length > 0) {
    const frame = stack.at(-1)!;
    if (frame.next >= frame.entries.length) {
      stack.pop();
      continue;
    }
    const entry = frame.entries[frame.next++]!;
    const pathBytes = frame.path.length === 0 ? entry.nameBytes : Buffer.concat([frame.path, SLASH, entry.nameBytes]);
    if (entry.type === 'tree') {
      const entries = await ahead.take(entry.id);
      ahead.prefetch(entries);
      stack.push({ entries, next: 0, path: pathBytes });
    } else if (entry.type === 'blob') {
      yield fileEntry(pathBytes, entry, latestKeys);
    }
  }
}

/** `latestKeys` (all paths in tree order) says whether the path is mapped in the latest/ view. */
function fileEntry(pathBytes: Buffer, entry: TreeListingEntry, latestKeys?: SnapshotKeyAllocator): SnapshotFileEntry {
  const path = exactText(pathBytes);
  const mappedBecause = latestKeys?.allocate(pathBytes).mappedBecause;
  return {
    path: path.text,
    ...(path.base64 !== undefined && { pathBase64: path.base64 }),
    key: objectKey(entry.id),
    ...(mappedBecause !== undefined && { mappedBecause }),
    size: entry.size ?? 0,
    mode: entry.mode,
    gitSha: entry.id,
  };
}

/** Listings asked for ahead of the walk, at most `limit` in flight; each taken once. */
class ListingPrefetch {
  private readonly pending = new Map<string, Promise<readonly TreeListingEntry[]>>();
  private inFlight = 0;

  constructor(
    private readonly source: TreeListingSource,
    private readonly limit: number,
  ) {}

  take(treeId: string): Promise<readonly TreeListingEntry[]> {
    const pending = this.pending.get(treeId);
    this.pending.delete(treeId);
    return pending ?? this.source(treeId);
  }

  prefetch(entries: readonly TreeListingEntry[]): void {
    for (const entry of entries) {
      if (this.inFlight >= this.limit) return;
      if (entry.type !== 'tree' || this.pending.has(entry.id)) continue;
      this.inFlight++;
      const load = this.source(entry.id).finally(() => this.inFlight--);
      // Rejections surface when the walk takes this listing; until then nobody may see them.
      load.catch(() => undefined);
      this.pending.set(entry.id, load);
    }
  }
}

/** What a path names in a snapshot: a directory and its entries, or one file. */
export type SnapshotNode =
  { kind: 'dir'; treeId: string | null; entries: readonly TreeListingEntry[] } | { kind: 'file'; file: SnapshotFileEntry };

/**
 * The directory or file at `pathBytes` (empty: the root) of a v4 snapshot, reading only the
 * listings on the path; undefined when nothing is there. Like git's own tools, the first of
 * two entries with one name wins (only crafted trees have such).
 */
export async function lookupSnapshotPath(
  listings: TreeListingSource,
  rootTree: string | null,
  pathBytes: Buffer,
): Promise<SnapshotNode | undefined> {
  if (rootTree === null) return pathBytes.length === 0 ? { kind: 'dir', treeId: null, entries: [] } : undefined;
  let entries = await listings(rootTree);
  let treeId = rootTree;
  const segments = splitPath(pathBytes);
  for (const [i, segment] of segments.entries()) {
    // Submodules are not part of a snapshot's files (never fetched).
    const entry = entries.find((candidate) => candidate.type !== 'commit' && candidate.nameBytes.equals(segment));
    if (entry === undefined) return undefined;
    if (entry.type === 'blob') {
      if (i < segments.length - 1) return undefined;
      // Whether the path is mapped depends on the whole tree: a lookup neither knows nor needs it.
      return { kind: 'file', file: fileEntry(pathBytes, entry) };
    }
    treeId = entry.id;
    entries = await listings(treeId);
  }
  return { kind: 'dir', treeId, entries };
}

/** `a/b/c` → [a, b, c]; the empty path → []. */
function splitPath(bytes: Buffer): Buffer[] {
  if (bytes.length === 0) return [];
  const segments: Buffer[] = [];
  let start = 0;
  for (let i = 0; i <= bytes.length; i++) {
    if (i === bytes.length || bytes[i] === 0x2f) {
      segments.push(bytes.subarray(start, i));
      start = i + 1;
    }
  }
  return segments;
}

/**
 * Every key outside the snapshot's own prefix that the snapshot at `prefix` needs, for retention
 * to know what it may not remove: its files' objects (`objects/...`, or for the oldest v2
 * manifests keys under a snapshot prefix) and, for v4, the `trees/` listing of every directory.
 * An unchanged visit references what its `contentFrom` snapshot holds. Each distinct tree is
 * read once.
 */
export async function referencedObjectKeys(
  store: ObjectReader,
  bucket: string,
  manifest: SnapshotManifest,
  prefix: string,
): Promise<Map<string, number>> {
  const content =
    manifest.contentFrom && manifest.contentFrom.prefix !== prefix
      ? await readSnapshotManifest(store, bucket, manifest.contentFrom.prefix)
      : manifest;
  const keys = new Map<string, number>();
  if (!listsFilesByTree(content)) {
    for (const file of content.files ?? []) keys.set(file.key, file.size);
    return keys;
  }
  if (!content.tree) return keys;
  const seen = new Set<string>([content.tree]);
  let level = [content.tree];
  while (level.length > 0) {
    const next: string[] = [];
    for (let start = 0; start < level.length; start += DEFAULT_CONCURRENCY) {
      const listings = await Promise.all(level.slice(start, start + DEFAULT_CONCURRENCY).map((id) => readTreeListing(store, bucket, id)));
      for (const entries of listings) {
        for (const entry of entries) {
          if (entry.type === 'blob') keys.set(objectKey(entry.id), entry.size ?? 0);
          else if (entry.type === 'tree' && !seen.has(entry.id)) {
            seen.add(entry.id);
            next.push(entry.id);
          }
        }
      }
    }
    level = next;
  }
  // A listing's own size is not recorded anywhere but in the bucket: 0 here (a few KB at most).
  for (const id of seen) keys.set(treeListingKey(id), 0);
  return keys;
}

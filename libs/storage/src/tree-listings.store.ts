import type { KnownObject } from './repository-objects';
import type { TreeListingSource } from './snapshot-files';
import type { SnapshotTreeFile } from './snapshot-writer';
import { StorageError, StorageErrorCode } from './storage.error';
import {
  encodeTreeListing,
  TREE_LISTING_CONTENT_ENCODING,
  TREE_LISTING_CONTENT_TYPE,
  type TreeListingEntry,
  treeListingKey,
} from './tree-listing';

/** The trees of one commit as read from git (RepositoryReader.trees): every distinct tree, by id. */
export interface CommitTrees {
  readonly root: string;
  readonly trees: ReadonlyMap<string, readonly TreeListingEntry[]>;
}

/** What the bucket holds already of a commit's trees and blobs, without asking it object by object. */
export interface StoredBefore {
  /** Trees whose listing is stored (and so, written bottom-up, every listing and blob below them). */
  trees: Set<string>;
  blobs: Map<string, KnownObject>;
}

export interface ListingPutStore {
  putBufferIfAbsent(bucket: string, key: string, body: Buffer, contentType?: string, contentEncoding?: string): Promise<boolean>;
}

export interface ListingCounts {
  /** Listings this snapshot wrote. */
  written: number;
  writtenBytes: number;
  /** Listings not known from the previous snapshot but found in the bucket already. */
  present: number;
  /** Listings known stored from the previous snapshot: not written, not asked for. */
  known: number;
}

const LISTING_READS_AT_ONCE = 8;

/**
 * What the previous snapshot (root tree `previousRoot`) stored, as far as `current` needs to
 * know: a tree of `current` that the previous snapshot had is stored with everything below it;
 * only the previous snapshot's trees that `current` does not share (the directories that
 * changed and their ancestors) are read from the bucket, for the blobs they name. A visit after
 * one changed file reads only the listings from the root down to it.
 */
export async function storedBefore(listings: TreeListingSource, previousRoot: string, current: CommitTrees): Promise<StoredBefore> {
  const stored: StoredBefore = { trees: new Set(), blobs: new Map() };
  const shared = (treeId: string) => {
    const stack = [treeId];
    while (stack.length > 0) {
      const id = stack.pop()!;
      if (stored.trees.has(id)) continue;
      stored.trees.add(id);
      for (const entry of current.trees.get(id) ?? []) {
        if (entry.type === 'tree') stack.push(entry.id);
        else if (entry.type === 'blob') stored.blobs.set(entry.id, { size: entry.size ?? 0 });
      }
    }
  };
  const read = new Set<string>();
  let level = [previousRoot];
  while (level.length > 0) {
    const toRead: string[] = [];
    for (const id of level) {
      if (current.trees.has(id)) shared(id);
      else if (!read.has(id)) {
        read.add(id);
        toRead.push(id);
      }
    }
    const next: string[] = [];
    for (let start = 0; start < toRead.length; start += LISTING_READS_AT_ONCE) {
      const batch = toRead.slice(start, start + LISTING_READS_AT_ONCE);
      const entriesOf = await Promise.all(batch.map((id) => listings(id)));
      batch.forEach((id, i) => {
        stored.trees.add(id);
        for (const entry of entriesOf[i]!) {
          if (entry.type === 'tree') next.push(entry.id);
          else if (entry.type === 'blob') stored.blobs.set(entry.id, { size: entry.size ?? 0 });
        }
      });
    }
    level = next;
  }
  return stored;
}

/**
 * Every file (blob) of the commit, in git's tree order (that of `git ls-tree -r`), with its
 * exact path; submodules are not files. Built with an explicit stack: crafted trees can nest
 * deeper than the call stack.
 */
export function treeFiles(trees: CommitTrees): SnapshotTreeFile[] {
  const files: SnapshotTreeFile[] = [];
  const stack: { entries: readonly TreeListingEntry[]; next: number; path: Buffer }[] = [
    { entries: entriesOf(trees, trees.root), next: 0, path: Buffer.alloc(0) },
  ];
  while (stack.length > 0) {
    const frame = stack.at(-1)!;
    if (frame.next >= frame.entries.length) {
      stack.pop();
      continue;
    }
    const entry = frame.entries[frame.next++]!;
    const pathBytes = frame.path.length === 0 ? entry.nameBytes : Buffer.concat([frame.path, Buffer.from('/'), entry.nameBytes]);
    if (entry.type === 'tree') stack.push({ entries: entriesOf(trees, entry.id), next: 0, path: pathBytes });
    else if (entry.type === 'blob') files.push({ pathBytes, size: entry.size ?? 0, mode: entry.mode, sha: entry.id });
  }
  return files;
}

/**
 * Writes the listing of every tree not in `stored`, children before parents (by height: leaves
 * first), each a conditional PUT so an existing listing is never rewritten. Bottom-up is what
 * lets a listing's existence vouch for everything below it, even after a run died half-way.
 */
export async function writeTreeListings(
  store: ListingPutStore,
  bucket: string,
  trees: CommitTrees,
  stored: ReadonlySet<string>,
  options: { concurrency: number; stopped: () => boolean; counts: ListingCounts },
): Promise<void> {
  const { counts } = options;
  const byHeight = new Map<number, string[]>();
  for (const [id, height] of heights(trees)) {
    if (stored.has(id)) {
      counts.known++;
      continue;
    }
    const group = byHeight.get(height) ?? [];
    group.push(id);
    byHeight.set(height, group);
  }
  for (const height of [...byHeight.keys()].sort((a, b) => a - b)) {
    const ids = byHeight.get(height)!;
    let next = 0;
    const lane = async () => {
      while (next < ids.length && !options.stopped()) {
        const id = ids[next++]!;
        const body = encodeTreeListing(entriesOf(trees, id));
        const written = await store.putBufferIfAbsent(
          bucket,
          treeListingKey(id),
          body,
          TREE_LISTING_CONTENT_TYPE,
          TREE_LISTING_CONTENT_ENCODING,
        );
        if (written) {
          counts.written++;
          counts.writtenBytes += body.length;
        } else counts.present++;
      }
    };
    await Promise.all(Array.from({ length: Math.min(options.concurrency, ids.length) }, lane));
    if (options.stopped()) return;
  }
}

/** Each tree's height: 0 for a tree with no subtree, else one more than its highest subtree. */
function heights(trees: CommitTrees): Map<string, number> {
  const height = new Map<string, number>();
  const stack: { id: string; expanded: boolean }[] = [{ id: trees.root, expanded: false }];
  while (stack.length > 0) {
    const frame = stack.pop()!;
    if (height.has(frame.id)) continue;
    const subtrees = entriesOf(trees, frame.id).filter((entry) => entry.type === 'tree');
    if (!frame.expanded) {
      stack.push({ id: frame.id, expanded: true });
      for (const entry of subtrees) if (!height.has(entry.id)) stack.push({ id: entry.id, expanded: false });
      continue;
    }
    height.set(
      frame.id,
      subtrees.reduce((max, entry) => Math.max(max, (height.get(entry.id) ?? 0) + 1), 0),
    );
  }
  return height;
}

function entriesOf(trees: CommitTrees, id: string): readonly TreeListingEntry[] {
  const entries = trees.trees.get(id);
  if (entries === undefined) throw new StorageError(StorageErrorCode.INVALID, `Tree ${id} is named by its parent but was not read`);
  return entries;
}

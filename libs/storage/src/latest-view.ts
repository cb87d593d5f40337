import { contentTypeFor } from './content-type';
import type { ObjectStoreRepository } from './object-store.repository';
import { OBJECTS_FOLDER } from './repository-objects';
import { bucketListings, onceEach, type TreeListingSource, walkSnapshotFiles } from './snapshot-files';
import { SnapshotKeyAllocator } from './snapshot-key.allocator';
import { readSnapshotManifest, type SnapshotFileEntry, type SnapshotManifest } from './snapshot-manifest';
import { StorageError, StorageErrorCode } from './storage.error';

/**
 * `latest/` of a repository's bucket: the HEAD tree of its newest completed snapshot by path
 * (`latest/files/<path>`, `latest/mapped/...` for paths no key can spell, as under a snapshot),
 * so people can browse it in the MinIO console. Server-side copies of `objects/`, so it costs
 * requests, not transfer. It is a convenience, never a source of truth: manifests are.
 */
export const LATEST_FOLDER = 'latest/';
/** Names the snapshot the view shows; written last, removed first while the view changes. */
export const LATEST_RECORD_KEY = `${LATEST_FOLDER}snapshot.json`;

export interface LatestRecord {
  /** The newest completed snapshot when the view was built. */
  archiveId: string;
  prefix: string;
  commit: string | null;
  /** The snapshot holding the files shown (`prefix` itself, or what its unchanged manifest points at). */
  contentPrefix: string;
  updatedAt: string;
}

export interface LatestUpdate {
  /** False when the view showed this content already and was left alone. */
  changed: boolean;
  copied: number;
  removed: number;
}

export type LatestStore = Pick<
  ObjectStoreRepository,
  'getObject' | 'putBuffer' | 'putStream' | 'copyObject' | 'listObjects' | 'removeObject' | 'removeObjects'
>;

const COPY_CONCURRENCY = 8;

export class LatestView {
  constructor(private readonly store: LatestStore) {}

  /**
   * Makes `latest/` show the snapshot at `prefix` (which must be complete). Compares the
   * desired view with what is listed and what the record says was copied, so a view left half
   * updated by an earlier failure is repaired: while it changes, no record claims it is whole.
   */
  async show(bucket: string, prefix: string): Promise<LatestUpdate> {
    const manifest = await readSnapshotManifest(this.store, bucket, prefix);
    const contentPrefix = manifest.contentFrom?.prefix ?? prefix;
    const content = manifest.contentFrom ? await readSnapshotManifest(this.store, bucket, contentPrefix) : manifest;
    const record = await this.record(bucket);
    if (record?.contentPrefix === contentPrefix) return { changed: false, copied: 0, removed: 0 };

    // The shown and the new tree share most directories: each listing is read once.
    const listings = onceEach(bucketListings(this.store, bucket));
    const believed = record ? await this.believedView(bucket, record.contentPrefix, listings) : new Map<string, string>();
    const desired = await viewOf(this.store, bucket, content, listings);
    await this.store.removeObject(bucket, LATEST_RECORD_KEY);
    const listed = new Set<string>();
    for await (const object of this.store.listObjects(bucket, LATEST_FOLDER)) {
      if (object.name !== LATEST_RECORD_KEY) listed.add(object.name);
    }
    // Gone paths first: a file `a` must be gone before `a/b` can be written.
    const gone = [...listed].filter((key) => !desired.has(key));
    await this.store.removeObjects(bucket, gone);
    const toCopy = [...desired].filter(([key, file]) => !(listed.has(key) && believed.get(key) === file.gitSha));
    await forEachLimited(toCopy, COPY_CONCURRENCY, ([key, file]) => this.copy(bucket, file, key));
    const next: LatestRecord = {
      archiveId: manifest.archiveId,
      prefix,
      commit: content.commit,
      contentPrefix,
      updatedAt: new Date().toISOString(),
    };
    await this.store.putBuffer(bucket, LATEST_RECORD_KEY, Buffer.from(`${JSON.stringify(next, null, 2)}\n`), 'application/json');
    return { changed: true, copied: toCopy.length, removed: gone.length };
  }

  /** The record of what the view shows; null when there is none (never built, or being changed). */
  async record(bucket: string): Promise<LatestRecord | null> {
    try {
      const stream = await this.store.getObject(bucket, LATEST_RECORD_KEY);
      const chunks: Buffer[] = [];
      for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
      const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Partial<LatestRecord>;
      return typeof parsed.contentPrefix === 'string' ? (parsed as LatestRecord) : null;
    } catch (error) {
      if (error instanceof StorageError && error.code === StorageErrorCode.NOT_FOUND) return null;
      if (error instanceof SyntaxError) return null;
      throw error;
    }
  }

  /** Key → blob the view held when the record was written; empty when that manifest is gone. */
  private async believedView(bucket: string, contentPrefix: string, listings: TreeListingSource): Promise<Map<string, string>> {
    try {
      const shown = await readSnapshotManifest(this.store, bucket, contentPrefix);
      const shownContent = await viewOf(this.store, bucket, shown, listings);
      return new Map([...shownContent].map(([key, file]) => [key, file.gitSha]));
    } catch (error) {
      if (error instanceof StorageError && error.code === StorageErrorCode.NOT_FOUND) return new Map();
      throw error;
    }
  }

  private async copy(bucket: string, file: SnapshotFileEntry, key: string): Promise<void> {
    const contentType = contentTypeFor(file.path, file.mode);
    if (file.key.startsWith(OBJECTS_FOLDER)) {
      await this.store.copyObject(bucket, file.key, key, contentType);
      return;
    }
    // A manifest from before objects/ keeps bytes under its prefix, at keys a copy header may not carry.
    await this.store.putStream(bucket, key, await this.store.getObject(bucket, file.key), file.size, contentType);
  }
}

/** The view's key of every file of the manifest, by the same rules (and tree order) as a snapshot's files/. */
async function viewOf(
  store: LatestStore,
  bucket: string,
  manifest: SnapshotManifest,
  listings: TreeListingSource,
): Promise<Map<string, SnapshotFileEntry>> {
  const keys = new SnapshotKeyAllocator(LATEST_FOLDER);
  const view = new Map<string, SnapshotFileEntry>();
  for await (const file of walkSnapshotFiles(store, bucket, manifest, { listings })) {
    const pathBytes = file.pathBase64 !== undefined ? Buffer.from(file.pathBase64, 'base64') : Buffer.from(file.path, 'utf8');
    view.set(keys.allocate(pathBytes).key, file);
  }
  return view;
}

async function forEachLimited<T>(items: readonly T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await run(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

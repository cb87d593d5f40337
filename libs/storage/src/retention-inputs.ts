import type { Readable } from 'node:stream';
import { readBundleChain } from './bundle-chain';
import { referencedObjectKeys } from './snapshot-files';
import type { PlannedSnapshot } from './retention-plan';
import { readSnapshotManifest, type SnapshotManifest } from './snapshot-manifest';
import { StorageError, StorageErrorCode } from './storage.error';

type RetentionStore = {
  getObject(bucket: string, key: string): Promise<Readable>;
  listObjects(bucket: string, prefix: string): AsyncIterable<{ name: string; size: number }>;
};

/** A completed visit's row fields retention reads. */
export interface SnapshotLocation {
  id: string;
  finishedAt: Date;
  bucket: string;
  prefix: string;
}

export interface LoadedSnapshot extends PlannedSnapshot {
  bucket: string;
  prefix: string;
  /**
   * Null when the row says completed but the manifest is gone: a prune that crashed between
   * removing a snapshot's manifest and its row. It is planned like any snapshot (with no chain
   * and no blobs), so the next prune finishes removing it when the policy prunes it.
   */
  manifest: SnapshotManifest | null;
}

/**
 * Reads what the retention planner needs of each snapshot from the bucket: its manifest (the
 * outcome and `contentFrom`), the chain a restore applies today, the bytes under its prefix and
 * the blobs it maps. Shared by the dry run and the worker's prune, so both plan from the same facts.
 */
export async function loadRetentionInputs(store: RetentionStore, snapshots: readonly SnapshotLocation[]): Promise<LoadedSnapshot[]> {
  const loaded: LoadedSnapshot[] = [];
  for (const snapshot of snapshots) {
    const { bucket, prefix } = snapshot;
    const manifest = await readManifestIfAny(store, bucket, prefix);
    let prefixBytes = 0;
    for await (const object of store.listObjects(bucket, prefix)) prefixBytes += object.size;
    if (!manifest) {
      const { id, finishedAt } = snapshot;
      loaded.push({
        id,
        finishedAt,
        outcome: 'changed',
        contentFrom: null,
        chain: [],
        prefixBytes,
        objects: new Map(),
        bucket,
        prefix,
        manifest,
      });
      continue;
    }
    const unchanged = manifest.contentFrom !== undefined;
    loaded.push({
      id: snapshot.id,
      finishedAt: snapshot.finishedAt,
      outcome: unchanged ? 'unchanged' : 'changed',
      contentFrom: manifest.contentFrom?.archiveId ?? null,
      // An unchanged visit restores through its content's chain, which the planner handles there.
      chain: unchanged ? [] : await readBundleChain(store, bucket, prefix, manifest),
      prefixBytes,
      objects: unchanged ? new Map() : await referencedObjectKeys(store, bucket, manifest, prefix),
      bucket,
      prefix,
      manifest,
    });
  }
  return loaded;
}

async function readManifestIfAny(store: RetentionStore, bucket: string, prefix: string): Promise<SnapshotManifest | null> {
  try {
    return await readSnapshotManifest(store, bucket, prefix);
  } catch (error) {
    if (error instanceof StorageError && error.code === StorageErrorCode.NOT_FOUND) return null;
    throw error;
  }
}

import type { Readable } from 'node:stream';
import { readBundleChain } from './bundle-chain';
import { referencedObjectKeys } from './referenced-objects';
import type { PlannedSnapshot } from './retention-plan';
import { readSnapshotManifest, type SnapshotManifest } from './snapshot-manifest';

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
  manifest: SnapshotManifest;
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
    const manifest = await readSnapshotManifest(store, bucket, prefix);
    const unchanged = manifest.contentFrom !== undefined;
    let prefixBytes = 0;
    for await (const object of store.listObjects(bucket, prefix)) prefixBytes += object.size;
    loaded.push({
      id: snapshot.id,
      finishedAt: snapshot.finishedAt,
      outcome: unchanged ? 'unchanged' : 'changed',
      contentFrom: manifest.contentFrom?.archiveId ?? null,
      // An unchanged visit restores through its content's chain, which the planner handles there.
      chain: unchanged ? [] : await readBundleChain(store, bucket, prefix, manifest),
      prefixBytes,
      objects: unchanged ? new Map() : await referencedObjectKeys(store, bucket, manifest),
      bucket,
      prefix,
      manifest,
    });
  }
  return loaded;
}

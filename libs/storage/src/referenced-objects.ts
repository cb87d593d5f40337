import type { Readable } from 'node:stream';
import { OBJECTS_FOLDER } from './repository-objects';
import { readSnapshotManifest, type SnapshotManifest } from './snapshot-manifest';

type ManifestStore = { getObject(bucket: string, key: string): Promise<Readable> };

/**
 * The keys under `objects/` whose bytes a snapshot's paths map to, with their sizes (an
 * unchanged visit's are those of the snapshot holding its content). Retention's blob garbage
 * collection and its dry run read manifests' files only through this function, so a change of
 * how manifests list files is made here once.
 */
export async function referencedObjectKeys(
  store: ManifestStore,
  bucket: string,
  manifest: Pick<SnapshotManifest, 'files' | 'contentFrom'>,
): Promise<Map<string, number>> {
  const content = manifest.contentFrom ? await readSnapshotManifest(store, bucket, manifest.contentFrom.prefix) : manifest;
  const keys = new Map<string, number>();
  for (const file of content.files) if (file.key.startsWith(OBJECTS_FOLDER)) keys.set(file.key, file.size);
  return keys;
}

import type { Readable } from 'node:stream';
import { readSnapshotManifest, type SnapshotFileEntry, type SnapshotManifest, walkSnapshotFiles } from '@archiver/storage';

/** A manifest with its files listed, whatever its version (v4 walks its trees/ listings). */
export type ManifestWithFiles = SnapshotManifest & { files: SnapshotFileEntry[] };

type ObjectReader = { getObject(bucket: string, key: string): Promise<Readable> };

/** `manifest` with `files` filled from its listings, so a test can compare every snapshot version alike. */
export async function withFiles(store: ObjectReader, bucket: string, manifest: SnapshotManifest): Promise<ManifestWithFiles> {
  const files: SnapshotFileEntry[] = [];
  for await (const file of walkSnapshotFiles(store, bucket, manifest)) files.push(file);
  return { ...manifest, files };
}

/** The manifest at `prefix`, with its files listed (see withFiles). */
export async function readManifestWithFiles(store: ObjectReader, bucket: string, prefix: string): Promise<ManifestWithFiles> {
  return withFiles(store, bucket, await readSnapshotManifest(store, bucket, prefix));
}

import type { Readable } from 'node:stream';
import { contentManifestOf, walkSnapshotFiles } from './snapshot-files';
import { readSnapshotManifest, type SnapshotFileEntry } from './snapshot-manifest';
import { StorageError, StorageErrorCode } from './storage.error';

/**
 * Every file's bytes live once per repository, at `objects/<gitSha[0:2]>/<gitSha[2:]>` of its
 * bucket: the git blob id names exact bytes and is known from the tree listing, so whether a
 * file is stored already is decided before anything is read. Objects are never overwritten and
 * never removed by a visit; manifests map each snapshot's paths to them.
 */
export const OBJECTS_FOLDER = 'objects/';

const GIT_OBJECT_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

export function objectKey(gitSha: string): string {
  if (!GIT_OBJECT_ID.test(gitSha)) throw new StorageError(StorageErrorCode.INVALID, `"${gitSha}" is not a git object id`);
  return `${OBJECTS_FOLDER}${gitSha.slice(0, 2)}/${gitSha.slice(2)}`;
}

/** What a manifest says about a blob already stored: enough to write its file entry without reading it. */
export interface KnownObject {
  size: number;
  /** Known from v2/v3 manifests only; v4 names bytes by the git id alone. */
  sha256?: string;
}

/** Stored blobs by git id. */
export type KnownObjects = ReadonlyMap<string, KnownObject>;

type ManifestStore = { getObject(bucket: string, key: string): Promise<Readable> };

/**
 * The blobs the snapshot at `prefix` maps its paths to under `objects/` (following an unchanged
 * visit's `contentFrom`; walking a v4 snapshot's listings). Entries of older manifests, whose
 * bytes sit under their own prefix, are not objects and are left out: their blobs are simply
 * stored again.
 */
export async function knownObjectsOf(store: ManifestStore, bucket: string, prefix: string): Promise<Map<string, KnownObject>> {
  const manifest = await contentManifestOf(store, bucket, await readSnapshotManifest(store, bucket, prefix));
  return objectsReferencedBy(walkSnapshotFiles(store, bucket, manifest));
}

export async function objectsReferencedBy(
  files: AsyncIterable<SnapshotFileEntry> | Iterable<SnapshotFileEntry>,
): Promise<Map<string, KnownObject>> {
  const known = new Map<string, KnownObject>();
  for await (const file of files) {
    if (GIT_OBJECT_ID.test(file.gitSha) && file.key === objectKey(file.gitSha)) {
      known.set(file.gitSha, { size: file.size, ...(file.sha256 !== undefined && { sha256: file.sha256 }) });
    }
  }
  return known;
}

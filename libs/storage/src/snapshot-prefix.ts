import { StorageError, StorageErrorCode } from './storage.error';

/** Every snapshot of a repository lives under this folder of the repository's bucket. */
export const SNAPSHOTS_FOLDER = 'snapshots/';
export const MANIFEST_FILE = 'manifest.json';
export const BUNDLE_FILE = 'repo.bundle';
/** A bundle of only what the snapshots before it did not store: not restorable on its own. */
export const INCREMENT_BUNDLE_FILE = 'increment.bundle';
export const FILES_FOLDER = 'files/';
/** Files whose path cannot be a readable key (see SnapshotKeyAllocator); beside `files/`, never in it. */
export const MAPPED_FOLDER = 'mapped/';

const ID_FRAGMENT_LENGTH = 8;

/**
 * `snapshots/20240102T030405Z-1a2b3c4d/`: the UTC time sorts snapshots chronologically in
 * listings and the console; the id fragment keeps two snapshots in the same second apart and
 * leads back to the archive row. With `runId`, `...-1a2b3c4d-5e6f7a8b/`: every run of an
 * archive writes under its own prefix, so two runs can never overwrite or delete each other's files.
 */
export function snapshotPrefix(date: Date, archiveId: string, runId?: string): string {
  if (Number.isNaN(date.getTime())) {
    throw new StorageError(StorageErrorCode.INVALID, 'Snapshot date is not a valid date');
  }
  // The id becomes part of an object key: allow only what cannot change the key's structure.
  for (const id of [archiveId, runId ?? 'x']) {
    if (!/^[A-Za-z0-9_-]+$/.test(id)) throw new StorageError(StorageErrorCode.INVALID, `Id "${id}" cannot name a snapshot`);
  }
  const stamp = date
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '');
  const run = runId === undefined ? '' : `-${runId.slice(0, ID_FRAGMENT_LENGTH)}`;
  return `${SNAPSHOTS_FOLDER}${stamp}-${archiveId.slice(0, ID_FRAGMENT_LENGTH)}${run}/`;
}

/** Where a snapshot's manifest lives; a snapshot is complete iff this object exists. */
export function manifestKey(prefix: string): string {
  return `${prefix}${MANIFEST_FILE}`;
}

/**
 * One bundle of a whole snapshot, built on request from its bundle chain (POST
 * /api/archives/:id/bundle): added beside the snapshot's files, never replacing any of them.
 */
export function consolidatedBundleKey(prefix: string): string {
  return `${prefix}consolidated.bundle`;
}

export function bundleKey(prefix: string, kind: 'full' | 'incremental' = 'full'): string {
  return `${prefix}${kind === 'full' ? BUNDLE_FILE : INCREMENT_BUNDLE_FILE}`;
}

/**
 * The readable object key of a file of the repository's tree, `path` as git lists it
 * (`src/main.ts`). Only for paths SnapshotKeyAllocator accepts; the manifest has every file's key.
 */
export function fileKey(prefix: string, path: string): string {
  return `${prefix}${FILES_FOLDER}${path}`;
}

/** `<prefix>mapped/<sha256 of the path bytes>`, `-<n>` for the n-th file of one path. */
export function mappedFileKey(prefix: string, pathSha256: string, occurrence = 1): string {
  if (!/^[0-9a-f]{64}$/.test(pathSha256) || !Number.isSafeInteger(occurrence) || occurrence < 1) {
    throw new StorageError(StorageErrorCode.INVALID, `Cannot name a mapped file ${pathSha256} #${occurrence}`);
  }
  return `${prefix}${MAPPED_FOLDER}${pathSha256}${occurrence === 1 ? '' : `-${occurrence}`}`;
}

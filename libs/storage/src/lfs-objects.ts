import { StorageError, StorageErrorCode } from './storage.error';

/**
 * A repository's Git LFS objects live once per repository at `lfs/<oid[0:2]>/<oid>` of its
 * bucket: the oid is the sha256 of the exact bytes, checked before anything is stored under
 * it, so an object there is never rewritten (a visit skips oids already present).
 */
export const LFS_FOLDER = 'lfs/';

const LFS_OID = /^[0-9a-f]{64}$/;

export function lfsObjectKey(oid: string): string {
  if (!LFS_OID.test(oid)) throw new StorageError(StorageErrorCode.INVALID, `"${oid}" is not a Git LFS oid (sha256 hex)`);
  return `${LFS_FOLDER}${oid.slice(0, 2)}/${oid}`;
}

/** Why an LFS object of the snapshot is not stored (a code of libs/git LfsMissingCode, kept as text). */
export interface SnapshotLfsMissing {
  code: string;
  message: string;
}

/** One LFS pointer of the snapshot: a path of the stored tree (or, with `ref`, of another ref's tip). */
export interface SnapshotLfsEntry {
  /** Path in the tree, `/`-separated; `pathBase64` holds the exact bytes when they are not UTF-8. */
  path: string;
  pathBase64?: string;
  /** Set for pointers found at another ref's tip (LFS_ALL_REFS) rather than in the stored tree. */
  ref?: string;
  oid: string;
  /** The object's size as the pointer declares it (the pointer blob's own size is in the file listing). */
  size: number;
  /** `stored`: the bytes are at `lfs/<oid[0:2]>/<oid>` of the bucket. */
  status: 'stored' | 'missing';
  missing?: SnapshotLfsMissing;
}

/**
 * The manifest's `lfs` section (optional: manifests from before LFS, and snapshots without
 * pointers, have none). Counts are of distinct oids.
 */
export interface SnapshotLfs {
  /** Distinct objects stored for this snapshot (fetched now or already in the bucket). */
  objectCount: number;
  /** Their bytes. */
  byteCount: number;
  /** Distinct objects missing. */
  missingCount: number;
  /** Objects this visit uploaded (the rest were in the bucket already). */
  uploadedCount: number;
  entries: SnapshotLfsEntry[];
}

/** What the API shows of a snapshot's LFS content. */
export interface LfsSummary {
  objects: number;
  bytes: number;
  missing: { path: string; pathBase64?: string; ref?: string; oid: string; reason: SnapshotLfsMissing }[];
}

export function lfsSummaryOf(lfs: SnapshotLfs | undefined): LfsSummary | null {
  if (!lfs) return null;
  return {
    objects: lfs.objectCount,
    bytes: lfs.byteCount,
    missing: lfs.entries
      .filter((entry) => entry.status === 'missing')
      .map((entry) => ({
        path: entry.path,
        ...(entry.pathBase64 !== undefined && { pathBase64: entry.pathBase64 }),
        ...(entry.ref !== undefined && { ref: entry.ref }),
        oid: entry.oid,
        reason: entry.missing ?? { code: 'LFS_UNKNOWN', message: 'not recorded' },
      })),
  };
}

/** The stored tree's pointers by exact path bytes (latin1 text of them), for browsing and restore. */
export function lfsEntriesByPath(lfs: SnapshotLfs | undefined): Map<string, SnapshotLfsEntry> {
  const byPath = new Map<string, SnapshotLfsEntry>();
  for (const entry of lfs?.entries ?? []) {
    if (entry.ref !== undefined) continue;
    const bytes = entry.pathBase64 !== undefined ? Buffer.from(entry.pathBase64, 'base64') : Buffer.from(entry.path, 'utf8');
    byPath.set(bytes.toString('latin1'), entry);
  }
  return byPath;
}

/** Each stored oid once, with its size: what a restore downloads. */
export function storedLfsObjects(lfs: SnapshotLfs | undefined): { oid: string; size: number }[] {
  const seen = new Map<string, number>();
  for (const entry of lfs?.entries ?? []) if (entry.status === 'stored') seen.set(entry.oid, entry.size);
  return [...seen].map(([oid, size]) => ({ oid, size }));
}

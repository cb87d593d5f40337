/**
 * What a restore drill can find wrong with a stored snapshot. Never rename a value: codes are
 * stored on the archive (verify_error_code) and shown on the repository's page.
 */
export enum SnapshotCheckCode {
  /** An object the snapshot needs (manifest, bundle, file) is not in the bucket. */
  MISSING_OBJECT = 'MISSING_OBJECT',
  /** A bundle's bytes differ from the manifest's size or sha256, or git refuses it. */
  CORRUPT_BUNDLE = 'CORRUPT_BUNDLE',
  /** The manifest cannot be read as one (not JSON, a ref that is not an object id). */
  INVALID_MANIFEST = 'INVALID_MANIFEST',
  /** The restored refs or HEAD differ from the manifest's. */
  REFS_MISMATCH = 'REFS_MISMATCH',
  /** `git fsck` of the restored repository reports missing or broken objects. */
  FSCK_FAILED = 'FSCK_FAILED',
  /** A stored file's bytes differ from the manifest's size, sha256 or git blob id. */
  FILE_CHECKSUM_MISMATCH = 'FILE_CHECKSUM_MISMATCH',
}

/** A stored snapshot does not restore as its manifest says; the message names the object or ref. */
export class SnapshotCheckError extends Error {
  override readonly name = 'SnapshotCheckError';

  constructor(
    readonly code: SnapshotCheckCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

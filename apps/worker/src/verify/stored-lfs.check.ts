import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { lfsObjectKey, type SnapshotLfs, StorageError, StorageErrorCode, storedLfsObjects } from '@archiver/storage';
import { SnapshotCheckCode, SnapshotCheckError } from '../bundle/snapshot-check.error';

type ObjectReader = { getObject(bucket: string, key: string): Promise<Readable> };

/**
 * Part of the restore drill, which reads every stored file already: each Git LFS object the
 * snapshot lists as stored is read once and must be its pointer's size and hash to its oid.
 */
export async function checkStoredLfsObjects(
  store: ObjectReader,
  bucket: string,
  lfs: SnapshotLfs | undefined,
  signal: AbortSignal,
): Promise<void> {
  for (const { oid, size } of storedLfsObjects(lfs)) {
    signal.throwIfAborted();
    const key = lfsObjectKey(oid);
    let stream: Readable;
    try {
      stream = await store.getObject(bucket, key);
    } catch (error) {
      if (error instanceof StorageError && error.code === StorageErrorCode.NOT_FOUND) {
        throw new SnapshotCheckError(
          SnapshotCheckCode.MISSING_OBJECT,
          `${bucket}/${key} (a Git LFS object the manifest lists as stored) is missing`,
        );
      }
      throw error;
    }
    const hash = createHash('sha256');
    let bytes = 0;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (signal.aborted) {
        stream.destroy();
        signal.throwIfAborted();
      }
      bytes += chunk.length;
      hash.update(chunk);
    }
    const digest = hash.digest('hex');
    if (bytes !== size || digest !== oid) {
      throw new SnapshotCheckError(
        SnapshotCheckCode.FILE_CHECKSUM_MISMATCH,
        `${bucket}/${key} does not hold its Git LFS object: ${bytes} bytes with sha256 ${digest}, expected ${size} bytes with sha256 ${oid}`,
      );
    }
  }
}

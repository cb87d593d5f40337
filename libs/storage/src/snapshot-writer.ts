import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { pipeline, Readable } from 'node:stream';
import { MeasuringStream, sizeMismatchError } from './measuring.stream';
import type { ObjectStoreRepository } from './object-store.repository';
import type { SnapshotBundle, SnapshotFileEntry, SnapshotManifest } from './snapshot-manifest';
import { bundleKey, fileKey, manifestKey } from './snapshot-prefix';
import { StorageError, StorageErrorCode, toStorageError } from './storage.error';

/** One blob of the tree, as read from `git cat-file --batch`. */
export interface SnapshotFileSource {
  path: string;
  size: number;
  mode: string;
  /** The blob's git object id. */
  sha: string;
  /** Exactly `size` bytes; the source produces the next file only once this one is consumed. */
  stream: Readable;
}

export interface SnapshotTarget {
  bucket: string;
  /** From snapshotPrefix(): ends with `/`. */
  prefix: string;
}

export interface UploadFilesOptions {
  /** Most uploads in flight at once. */
  concurrency: number;
  /** Files below this size are read into memory so they can upload in parallel (default 1 MiB). */
  smallFileBytes?: number;
  /** Cap on file bytes held in memory awaiting upload (default 64 MiB). */
  maxBufferedBytes?: number;
}

/** What the writer needs from the store; a fake of it drives the unit tests. */
export type SnapshotStore = Pick<ObjectStoreRepository, 'putStream' | 'putBuffer' | 'removePrefix' | 'removeIncompleteUploads'>;

const MiB = 1024 * 1024;
// S3's limit on a key's UTF-8 length.
const MAX_KEY_BYTES = 1024;

/**
 * Writes one snapshot under `<prefix>`: files, bundle, then the manifest. Until the manifest
 * exists the snapshot is incomplete, so a failure never leaves something that looks finished;
 * abort() removes what was written.
 */
export class SnapshotWriter {
  private readonly running = new Set<Promise<unknown>>();
  private aborted = false;

  constructor(
    private readonly store: SnapshotStore,
    private readonly target: SnapshotTarget,
  ) {
    if (!target.prefix.endsWith('/')) {
      throw new StorageError(StorageErrorCode.INVALID, `Snapshot prefix must end with "/": ${target.prefix}`);
    }
  }

  /**
   * Uploads every file to `<prefix>files/<path>` and returns them in source order.
   *
   * The source is one git process streaming blobs one after another, so parallelism cannot
   * come from reading several at once. Small files are read into memory and uploaded
   * concurrently (bounded by `concurrency` and `maxBufferedBytes`) while the source moves on;
   * a large file is streamed straight through, which holds the source until it is stored.
   * Peak memory: `maxBufferedBytes` plus a few multipart parts for the large file (see
   * ObjectStoreOptions.partSizeBytes).
   */
  uploadFiles(source: AsyncIterable<SnapshotFileSource>, options: UploadFilesOptions): Promise<SnapshotFileEntry[]> {
    return this.track(() => this.runUploadFiles(source, options));
  }

  /** Uploads the `git bundle` at `filePath` to `<prefix>repo.bundle`. */
  uploadBundle(filePath: string): Promise<SnapshotBundle> {
    return this.track(async () => {
      const key = bundleKey(this.target.prefix);
      const { size } = await stat(filePath).catch((error: unknown) => {
        throw toStorageError(error, `read bundle ${filePath}`);
      });
      const measured = new MeasuringStream({ expectedSize: size, sha256: true, label: key });
      // A read error reaches putStream through `measured`; the callback has nothing to add.
      pipeline(createReadStream(filePath), measured, () => undefined);
      await this.store.putStream(this.target.bucket, key, measured, size, 'application/x-git-bundle');
      return { key, size, sha256: measured.sha256() };
    });
  }

  /** Writes `<prefix>manifest.json`, which marks the snapshot complete. Must come last. */
  async writeManifest(manifest: SnapshotManifest): Promise<string> {
    if (this.running.size > 0) {
      throw new StorageError(
        StorageErrorCode.INVALID,
        `Manifest must be written last, but ${this.running.size} upload(s) are still running`,
      );
    }
    return this.track(async () => {
      const key = manifestKey(this.target.prefix);
      const body = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, 'utf8');
      await this.store.putBuffer(this.target.bucket, key, body, 'application/json');
      return key;
    });
  }

  /**
   * Removes everything this snapshot wrote (and unfinished multipart uploads) after letting
   * running uploads stop. Tries every step and throws the first failure.
   */
  async abort(): Promise<void> {
    this.aborted = true;
    await Promise.allSettled([...this.running]);
    const { bucket, prefix } = this.target;
    const failures: unknown[] = [];
    const attempt = (step: () => Promise<unknown>) =>
      step().catch((error: unknown) => {
        // A missing bucket holds nothing to remove.
        if (!(error instanceof StorageError && error.code === StorageErrorCode.NOT_FOUND)) failures.push(error);
      });
    // Manifest first: even a partly removed snapshot must never look complete.
    await attempt(() => this.store.removePrefix(bucket, manifestKey(prefix)));
    await attempt(() => this.store.removeIncompleteUploads(bucket, prefix));
    await attempt(() => this.store.removePrefix(bucket, prefix));
    if (failures.length) throw toStorageError(failures[0], `abort snapshot ${bucket}/${prefix}`);
  }

  private async runUploadFiles(source: AsyncIterable<SnapshotFileSource>, options: UploadFilesOptions): Promise<SnapshotFileEntry[]> {
    const { concurrency, smallFileBytes = MiB, maxBufferedBytes = 64 * MiB } = options;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new StorageError(StorageErrorCode.INVALID, `Upload concurrency must be a positive integer, got ${concurrency}`);
    }
    if (smallFileBytes > maxBufferedBytes) {
      throw new StorageError(StorageErrorCode.INVALID, 'smallFileBytes must not exceed maxBufferedBytes');
    }
    const { bucket, prefix } = this.target;
    const entries: SnapshotFileEntry[] = [];
    const inFlight = new Set<Promise<void>>();
    let bufferedBytes = 0;
    let failure: unknown;
    const waitUntil = async (hasRoom: () => boolean) => {
      while (!hasRoom() && inFlight.size > 0) await Promise.race(inFlight);
    };

    try {
      // Leaving the loop early calls the source's return(), which owns stopping git.
      for await (const file of source) {
        if (failure !== undefined || this.aborted) break;
        const key = fileKey(prefix, file.path);
        assertStorable(file, key);

        if (file.size < smallFileBytes) {
          await waitUntil(() => inFlight.size < concurrency && bufferedBytes + file.size <= maxBufferedBytes);
          if (failure !== undefined) break;
          bufferedBytes += file.size;
          const read = await readWhole(file.stream, file.size, key).catch((error: unknown) => {
            bufferedBytes -= file.size;
            throw error;
          });
          entries.push(toEntry(file, read.sha256));
          const task: Promise<void> = this.store
            .putBuffer(bucket, key, read.body)
            .then(
              () => undefined,
              (error: unknown) => {
                failure ??= error;
              },
            )
            .finally(() => {
              bufferedBytes -= file.size;
              inFlight.delete(task);
            });
          inFlight.add(task);
        } else {
          await waitUntil(() => inFlight.size < concurrency);
          if (failure !== undefined) break;
          const measured = new MeasuringStream({ expectedSize: file.size, sha256: true, label: key });
          // A source error reaches putStream through `measured`; the callback has nothing to add.
          pipeline(file.stream, measured, () => undefined);
          await this.store.putStream(bucket, key, measured, file.size);
          entries.push(toEntry(file, measured.sha256()));
        }
      }
    } finally {
      // Never return (or throw) while uploads still run: the caller may abort() next.
      await Promise.all([...inFlight]);
    }
    if (failure !== undefined) throw toStorageError(failure, `upload files to ${bucket}/${prefix}`);
    if (this.aborted) throw new StorageError(StorageErrorCode.FAILED, `Snapshot ${bucket}/${prefix} was aborted`);
    return entries;
  }

  private track<T>(run: () => Promise<T>): Promise<T> {
    if (this.aborted) {
      return Promise.reject(new StorageError(StorageErrorCode.FAILED, `Snapshot ${this.target.prefix} was aborted`));
    }
    const task = run();
    this.running.add(task);
    const forget = () => this.running.delete(task);
    task.then(forget, forget);
    return task;
  }
}

function toEntry(file: SnapshotFileSource, sha256: string): SnapshotFileEntry {
  return { path: file.path, size: file.size, mode: file.mode, gitSha: file.sha, sha256 };
}

// MinIO stores objects as files: it rejects keys with empty, `.` or `..` segments (verified:
// XMinioInvalidResourceName / XMinioInvalidObjectName). Fail with the path named instead.
function assertStorable(file: SnapshotFileSource, key: string): void {
  const segments = file.path.split('/');
  const badSegment = segments.some((segment) => segment === '' || segment === '.' || segment === '..');
  if (badSegment || file.path.includes('\0') || /\p{Cs}/u.test(file.path)) {
    throw new StorageError(StorageErrorCode.INVALID, `File path cannot be stored as an object key: ${JSON.stringify(file.path)}`);
  }
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) {
    throw new StorageError(StorageErrorCode.INVALID, `File path too long for an object key (${MAX_KEY_BYTES} bytes): ${file.path}`);
  }
  if (!Number.isSafeInteger(file.size) || file.size < 0) {
    throw new StorageError(StorageErrorCode.INVALID, `File ${file.path} has invalid size ${file.size}`);
  }
}

async function readWhole(stream: Readable, size: number, label: string): Promise<{ body: Buffer; sha256: string }> {
  const hash = createHash('sha256');
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    total += bytes.length;
    if (total > size) throw sizeMismatchError(label, size, total);
    hash.update(bytes);
    chunks.push(bytes);
  }
  if (total !== size) throw sizeMismatchError(label, size, total);
  return { body: Buffer.concat(chunks, total), sha256: hash.digest('hex') };
}

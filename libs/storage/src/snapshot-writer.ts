import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { pipeline, Readable } from 'node:stream';
import { MeasuringStream, sizeMismatchError } from './measuring.stream';
import type { ObjectStoreRepository } from './object-store.repository';
import { exactText } from './object-key-rules';
import { AllocatedKey, SnapshotKeyAllocator } from './snapshot-key.allocator';
import type { SnapshotBundle, SnapshotFileEntry, SnapshotManifest } from './snapshot-manifest';
import { bundleKey, manifestKey } from './snapshot-prefix';
import { StorageError, StorageErrorCode, toStorageError } from './storage.error';

/** One blob of the tree, as read from `git cat-file --batch`. */
export interface SnapshotFileSource {
  /** The path exactly as git stores it (not necessarily UTF-8). */
  pathBytes: Buffer;
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

export interface SnapshotWriterOptions {
  /**
   * Cancels the writer: no new upload starts, streams being uploaded are destroyed, and the
   * running call rejects with STORAGE_ABORTED once in-flight requests settled. abort() (removing
   * what was written) is still the caller's to call.
   */
  signal?: AbortSignal;
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

/**
 * Writes one snapshot under `<prefix>`: files, bundle, then the manifest. Until the manifest
 * exists the snapshot is incomplete, so a failure never leaves something that looks finished;
 * abort() removes what was written.
 */
export class SnapshotWriter {
  private readonly running = new Set<Promise<unknown>>();
  private aborted = false;
  private readonly keys: SnapshotKeyAllocator;
  private readonly signal: AbortSignal | undefined;

  constructor(
    private readonly store: SnapshotStore,
    private readonly target: SnapshotTarget,
    options: SnapshotWriterOptions = {},
  ) {
    if (!target.prefix.endsWith('/')) {
      throw new StorageError(StorageErrorCode.INVALID, `Snapshot prefix must end with "/": ${target.prefix}`);
    }
    this.keys = new SnapshotKeyAllocator(target.prefix);
    this.signal = options.signal;
  }

  /**
   * Uploads every file to its key (SnapshotKeyAllocator: `<prefix>files/<path>` when the path
   * can be a key, else under `<prefix>mapped/`) and returns them in source order.
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

  /** Uploads the `git bundle` at `filePath` to `<prefix>repo.bundle` (full) or `<prefix>increment.bundle`. */
  uploadBundle(filePath: string, kind: 'full' | 'incremental' = 'full'): Promise<SnapshotBundle> {
    return this.track(async () => {
      const key = bundleKey(this.target.prefix, kind);
      this.keys.claim(key);
      const { size } = await stat(filePath).catch((error: unknown) => {
        throw toStorageError(error, `read bundle ${filePath}`);
      });
      const measured = new MeasuringStream({ expectedSize: size, sha256: true, label: key });
      // A read error reaches putStream through `measured`; the callback has nothing to add.
      pipeline(createReadStream(filePath), measured, () => undefined);
      await this.watched(measured, () => this.store.putStream(this.target.bucket, key, measured, size, 'application/x-git-bundle'));
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
      this.keys.claim(key);
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
    const stopped = () => failure !== undefined || this.aborted || this.signal?.aborted === true;
    const waitUntil = async (hasRoom: () => boolean) => {
      while (!hasRoom() && inFlight.size > 0) await Promise.race(inFlight);
    };
    const files = source[Symbol.asyncIterator]();
    let pendingNext = false;

    try {
      for (;;) {
        if (stopped()) break;
        pendingNext = true;
        const next = await this.untilAborted(files.next());
        pendingNext = false;
        if (next.done) break;
        const file = next.value;
        if (stopped()) {
          file.stream.destroy();
          break;
        }
        assertSize(file);
        const allocated = this.keys.allocate(file.pathBytes);
        const { key } = allocated;

        if (file.size < smallFileBytes) {
          await waitUntil(() => inFlight.size < concurrency && bufferedBytes + file.size <= maxBufferedBytes);
          if (stopped()) break;
          bufferedBytes += file.size;
          const read = await this.watched(file.stream, () => readWhole(file.stream, file.size, key)).catch((error: unknown) => {
            bufferedBytes -= file.size;
            throw error;
          });
          entries.push(toEntry(file, allocated, read.sha256));
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
          if (stopped()) break;
          const measured = new MeasuringStream({ expectedSize: file.size, sha256: true, label: key });
          // A source error reaches putStream through `measured`; the callback has nothing to add.
          pipeline(file.stream, measured, () => undefined);
          await this.watched(measured, () => this.store.putStream(bucket, key, measured, file.size));
          entries.push(toEntry(file, allocated, measured.sha256()));
        }
      }
    } finally {
      // The source's return() owns stopping git. While a next() is still pending (the signal
      // fired first) return() would wait for it, so it is only asked to clean up once that settles.
      const closing = files.return?.();
      if (pendingNext) closing?.catch(() => undefined);
      else await closing;
      // Never return (or throw) while uploads still run: the caller may abort() next.
      await Promise.all([...inFlight]);
    }
    if (this.signal?.aborted) throw this.abortedError();
    if (failure !== undefined) throw toStorageError(failure, `upload files to ${bucket}/${prefix}`);
    if (this.aborted) throw new StorageError(StorageErrorCode.FAILED, `Snapshot ${bucket}/${prefix} was aborted`);
    return entries;
  }

  /** Runs `upload` of `stream`, destroying the stream if the signal fires meanwhile. */
  private async watched<T>(stream: Readable, upload: () => Promise<T>): Promise<T> {
    const signal = this.signal;
    if (!signal) return upload();
    // Listeners per upload, not per writer: the signal may outlive many writers (shutdown).
    const onAbort = () => stream.destroy(this.abortedError());
    if (signal.aborted) {
      onAbort();
      throw this.abortedError();
    }
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      return await upload();
    } catch (error) {
      throw signal.aborted ? this.abortedError() : error;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** `step`, or a rejection as soon as the signal fires (a stalled source must not hold a cancel). */
  private untilAborted<T>(step: Promise<T>): Promise<T> {
    const signal = this.signal;
    if (!signal) return step;
    if (signal.aborted) {
      step.catch(() => undefined);
      return Promise.reject(this.abortedError());
    }
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(this.abortedError());
      signal.addEventListener('abort', onAbort, { once: true });
      step.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  private abortedError(): StorageError {
    return new StorageError(StorageErrorCode.ABORTED, `Snapshot ${this.target.bucket}/${this.target.prefix} was cancelled`, {
      cause: this.signal?.reason,
    });
  }

  private track<T>(run: () => Promise<T>): Promise<T> {
    if (this.signal?.aborted) return Promise.reject(this.abortedError());
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

function toEntry(file: SnapshotFileSource, allocated: AllocatedKey, sha256: string): SnapshotFileEntry {
  const path = exactText(file.pathBytes);
  return {
    path: path.text,
    ...(path.base64 !== undefined && { pathBase64: path.base64 }),
    key: allocated.key,
    ...(allocated.mappedBecause !== undefined && { mappedBecause: allocated.mappedBecause }),
    size: file.size,
    mode: file.mode,
    gitSha: file.sha,
    sha256,
  };
}

function assertSize(file: SnapshotFileSource): void {
  if (!Number.isSafeInteger(file.size) || file.size < 0) {
    throw new StorageError(StorageErrorCode.INVALID, `File ${exactText(file.pathBytes).text} has invalid size ${file.size}`);
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

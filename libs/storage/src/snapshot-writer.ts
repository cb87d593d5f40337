import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { pipeline, Readable } from 'node:stream';
import { MeasuringStream, sizeMismatchError } from './measuring.stream';
import type { ObjectStoreRepository } from './object-store.repository';
import { contentTypeFor } from './content-type';
import { LATEST_FOLDER } from './latest-view';
import { exactText } from './object-key-rules';
import { type KnownObject, type KnownObjects, objectKey } from './repository-objects';
import { SnapshotKeyAllocator } from './snapshot-key.allocator';
import type { SnapshotBundle, SnapshotFileEntry, SnapshotManifest } from './snapshot-manifest';
import { bundleKey, manifestKey } from './snapshot-prefix';
import { StorageError, StorageErrorCode, toStorageError } from './storage.error';
import { type CommitTrees, type ListingCounts, writeTreeListings } from './tree-listings.store';

/** One file of the tree as `git ls-tree` lists it: known before any blob is read. */
export interface SnapshotTreeFile {
  /** The path exactly as git stores it (not necessarily UTF-8). */
  pathBytes: Buffer;
  size: number;
  mode: string;
  /** The blob's git object id. */
  sha: string;
}

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
  /** Blobs stored for the repository already (knownObjectsOf the previous snapshot): neither read nor checked. */
  known?: KnownObjects;
}

/** What storing the files did, for logs and tests. */
export interface UploadCounts {
  /** Blobs uploaded by this snapshot. */
  uploaded: number;
  uploadedBytes: number;
  /** Blobs read (not in `known`) but found in the bucket already, so not uploaded. */
  present: number;
  /** Paths whose blob was in `known`: not read at all. */
  known: number;
}

/** What the writer needs from the store; a fake of it drives the unit tests. */
export type SnapshotStore = Pick<
  ObjectStoreRepository,
  'putStream' | 'putBuffer' | 'putBufferIfAbsent' | 'statObject' | 'removePrefix' | 'removeIncompleteUploads'
>;

const MiB = 1024 * 1024;

/**
 * Writes one snapshot: its files' blobs to the repository's `objects/` (only those not stored
 * yet), then under `<prefix>` the bundle and the manifest. Until the manifest exists the
 * snapshot is incomplete, so a failure never leaves something that looks finished; abort()
 * removes what was written under the prefix. Blobs it uploaded to `objects/` stay: another
 * run may already rely on them (it found them present), they are exact content under their
 * git id, and the next visit reuses them instead of uploading them again.
 */
export class SnapshotWriter {
  readonly counts: UploadCounts = { uploaded: 0, uploadedBytes: 0, present: 0, known: 0 };
  /** What storeTreeListings() did, for logs and tests. */
  readonly listingCounts: ListingCounts = { written: 0, writtenBytes: 0, present: 0, known: 0 };
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
   * Stores the blobs of `tree` (in git's tree order) that are not stored for the repository yet
   * and returns every path's entry, in tree order, each mapped to `objects/<gitSha>`.
   * `options.known` (the previous snapshot's objects, knownObjectsOf) are taken as stored
   * without being read; only the other blobs, each once, are asked of `read`, and of those
   * only the ones missing from the bucket are uploaded (see `counts`).
   *
   * The source is one git process streaming blobs one after another, so parallelism cannot
   * come from reading several at once. Small files are read into memory and uploaded
   * concurrently (bounded by `concurrency` and `maxBufferedBytes`) while the source moves on;
   * a large file is streamed straight through, which holds the source until it is stored.
   * Peak memory: `maxBufferedBytes` plus a few multipart parts for the large file (see
   * ObjectStoreOptions.partSizeBytes).
   */
  storeTree<T extends SnapshotTreeFile>(
    tree: readonly T[],
    read: (files: T[]) => AsyncIterable<SnapshotFileSource>,
    options: UploadFilesOptions,
  ): Promise<SnapshotFileEntry[]> {
    return this.track(async () => {
      const known = options.known ?? new Map<string, KnownObject>();
      const toRead: T[] = [];
      const queued = new Set<string>();
      for (const file of tree) {
        if (known.get(file.sha)?.size === file.size) {
          this.counts.known++;
        } else if (!queued.has(file.sha)) {
          queued.add(file.sha);
          toRead.push(file);
        }
      }
      const hashes = toRead.length > 0 ? await this.runUploadObjects(read(toRead), options) : new Map<string, string>();
      return fileEntries(tree, (file) => hashes.get(file.sha) ?? known.get(file.sha)?.sha256);
    });
  }

  /** storeTree() for a source that reads every blob: each is still stored only if missing. */
  uploadFiles(source: AsyncIterable<SnapshotFileSource>, options: UploadFilesOptions): Promise<SnapshotFileEntry[]> {
    return this.track(async () => {
      const seen: SnapshotTreeFile[] = [];
      const hashes = await this.runUploadObjects(remember(source, seen), options);
      return fileEntries(seen, (file) => hashes.get(file.sha) as string);
    });
  }

  /**
   * Writes `trees/<id>` for every tree of the commit not in `stored` (storedBefore: the trees
   * the previous snapshot stored), children before parents, each only if absent. Call it after
   * the blobs are stored and before the manifest: a listing exists only once everything it
   * names does. Listings stay on abort(), like blobs: exact content under their git id.
   */
  storeTreeListings(trees: CommitTrees, stored: ReadonlySet<string>, concurrency: number): Promise<void> {
    return this.track(async () => {
      const stopped = () => this.aborted || this.signal?.aborted === true;
      await writeTreeListings(this.store, this.target.bucket, trees, stored, { concurrency, stopped, counts: this.listingCounts });
      if (this.signal?.aborted) throw this.abortedError();
      if (this.aborted) throw new StorageError(StorageErrorCode.FAILED, `Snapshot ${this.target.bucket}/${this.target.prefix} was aborted`);
    });
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
      // Compact: a repository with thousands of refs lists them all in every changed visit's manifest.
      const body = Buffer.from(`${JSON.stringify(manifest)}\n`, 'utf8');
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

  /**
   * Stores each blob of `source` once at objects/<gitSha> unless an object is there already
   * (statObject: an object is never overwritten), and returns the sha256 of each blob's bytes.
   * A blob met again (the same bytes at another path) is not read twice.
   */
  private async runUploadObjects(source: AsyncIterable<SnapshotFileSource>, options: UploadFilesOptions): Promise<Map<string, string>> {
    const { concurrency, smallFileBytes = MiB, maxBufferedBytes = 64 * MiB } = options;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new StorageError(StorageErrorCode.INVALID, `Upload concurrency must be a positive integer, got ${concurrency}`);
    }
    if (smallFileBytes > maxBufferedBytes) {
      throw new StorageError(StorageErrorCode.INVALID, 'smallFileBytes must not exceed maxBufferedBytes');
    }
    const { bucket, prefix } = this.target;
    const hashes = new Map<string, string>();
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
        if (stopped() || hashes.has(file.sha)) {
          file.stream.destroy();
          if (stopped()) break;
          continue;
        }
        assertSize(file);
        const key = objectKey(file.sha);
        const contentType = contentTypeFor(exactText(file.pathBytes).text, file.mode);

        if (file.size < smallFileBytes) {
          await waitUntil(() => inFlight.size < concurrency && bufferedBytes + file.size <= maxBufferedBytes);
          if (stopped()) break;
          bufferedBytes += file.size;
          const read = await this.watched(file.stream, () => readWhole(file.stream, file.size, key)).catch((error: unknown) => {
            bufferedBytes -= file.size;
            throw error;
          });
          hashes.set(file.sha, read.sha256);
          const task: Promise<void> = this.storeAbsent(key, file.size, () =>
            this.store.putBufferIfAbsent(bucket, key, read.body, contentType),
          )
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
          // A source error reaches putStream (or the drain) through `measured`; the callback has nothing to add.
          pipeline(file.stream, measured, () => undefined);
          await this.watched(measured, () =>
            this.storeAbsent(
              key,
              file.size,
              () => this.store.putStream(bucket, key, measured, file.size, contentType),
              () => drain(measured),
            ),
          );
          hashes.set(file.sha, measured.sha256());
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
    return hashes;
  }

  /**
   * Uploads unless the object exists. A small blob's PUT is conditional too (false: it was
   * there); two runs racing on one new large blob may both stream it, the same bytes under the
   * same git id, so the second upload changes nothing readable.
   */
  private async storeAbsent(key: string, size: number, put: () => Promise<unknown>, skip?: () => Promise<void>): Promise<void> {
    if ((await this.exists(key)) || (await put()) === false) {
      this.counts.present++;
      await skip?.();
      return;
    }
    this.counts.uploaded++;
    this.counts.uploadedBytes += size;
  }

  private async exists(key: string): Promise<boolean> {
    try {
      await this.store.statObject(this.target.bucket, key);
      return true;
    } catch (error) {
      if (error instanceof StorageError && error.code === StorageErrorCode.NOT_FOUND) return false;
      throw error;
    }
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

/**
 * Entries in tree order. `mappedBecause` says the path has no readable key in the `latest/`
 * view (the same rules as files/ under a snapshot had, see SnapshotKeyAllocator).
 */
function fileEntries(tree: readonly SnapshotTreeFile[], sha256Of: (file: SnapshotTreeFile) => string | undefined): SnapshotFileEntry[] {
  const latestKeys = new SnapshotKeyAllocator(LATEST_FOLDER);
  return tree.map((file) => {
    const path = exactText(file.pathBytes);
    const { mappedBecause } = latestKeys.allocate(file.pathBytes);
    const sha256 = sha256Of(file);
    return {
      path: path.text,
      ...(path.base64 !== undefined && { pathBase64: path.base64 }),
      key: objectKey(file.sha),
      ...(mappedBecause !== undefined && { mappedBecause }),
      size: file.size,
      mode: file.mode,
      gitSha: file.sha,
      ...(sha256 !== undefined && { sha256 }),
    };
  });
}

async function* remember(source: AsyncIterable<SnapshotFileSource>, seen: SnapshotTreeFile[]): AsyncGenerator<SnapshotFileSource> {
  for await (const file of source) {
    seen.push({ pathBytes: file.pathBytes, size: file.size, mode: file.mode, sha: file.sha });
    yield file;
  }
}

async function drain(stream: Readable): Promise<void> {
  for await (const chunk of stream) void chunk;
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

import * as http from 'node:http';
import * as https from 'node:https';
import { pipeline, Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { OnModuleDestroy } from '@nestjs/common';
import { type BucketItem, Client, CopyDestinationOptions, CopySourceOptions } from 'minio';
import { MeasuringStream } from './measuring.stream';
import { keepAliveAgent, parseEndpoint, withRequestTimeout } from './object-store.connection';
import { hasS3Code, StorageError, StorageErrorCode, toStorageError } from './storage.error';

export interface ObjectStoreOptions {
  /** `http(s)://host:port` of the S3 API. */
  endpoint: string;
  accessKey: string;
  secretKey: string;
  region: string;
  /** Longest wait for a connection plus the server's first response byte (default 30 s). */
  requestTimeoutMs?: number;
  /** Upper bound on open sockets to the store; further requests queue (default 32). */
  maxSockets?: number;
  /** Attempts for calls that can be replayed, on transient failures only (default 3). */
  retryAttempts?: number;
  /** First retry delay; each further retry waits 4× longer (default 100 ms). */
  retryBaseDelayMs?: number;
  /**
   * Multipart part size for streams larger than one part (default 8 MiB, minimum 5 MiB).
   * minio-js holds several parts of a stream in memory at once (the part being sent, one
   * queued, one being gathered and its concatenated copy), so this sets a large file's memory
   * cost: uploading a 200 MB file raised RSS by ~260 MB with minio-js's own 64 MiB, ~115 MB
   * with 16 MiB, ~85 MB with 8 MiB (bench/README.md), for ~0.2 s more per 200 MB.
   */
  partSizeBytes?: number;
}

export interface StoredObject {
  name: string;
  size: number;
}

export interface ObjectStat {
  size: number;
  etag: string;
  lastModified: Date;
  contentType: string | undefined;
}

export interface PutResult {
  etag: string;
  size: number;
}

const DEFAULT_CONTENT_TYPE = 'application/octet-stream';
// S3 DeleteObjects accepts at most 1000 keys per request.
const REMOVE_BATCH_SIZE = 1000;
const MAX_PRESIGN_SECONDS = 7 * 24 * 60 * 60;
export const DEFAULT_PART_SIZE_BYTES = 8 * 1024 * 1024;

/** The only code that talks to MinIO. Every failure leaves as a StorageError. */
export class ObjectStoreRepository implements OnModuleDestroy {
  private readonly client: Client;
  private readonly agent: http.Agent;
  private readonly region: string;
  private readonly retryAttempts: number;
  private readonly retryBaseDelayMs: number;

  constructor(options: ObjectStoreOptions) {
    const url = parseEndpoint(options.endpoint);
    const useSSL = url.protocol === 'https:';
    this.agent = keepAliveAgent(useSSL, options.maxSockets ?? 32);
    this.region = options.region;
    this.retryAttempts = Math.max(1, options.retryAttempts ?? 3);
    this.retryBaseDelayMs = options.retryBaseDelayMs ?? 100;
    this.client = new Client({
      endPoint: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port ? Number(url.port) : useSSL ? 443 : 80,
      useSSL,
      accessKey: options.accessKey,
      secretKey: options.secretKey,
      region: options.region,
      // MinIO serves buckets as paths unless MINIO_DOMAIN is configured, which we never do.
      pathStyle: true,
      transport: withRequestTimeout(useSSL ? https : http, options.requestTimeoutMs ?? 30_000),
      transportAgent: this.agent,
      // minio-js retries 5xx once and logs with console.warn; `call` retries instead, and also
      // on reset connections, and leaves the decision to the transient flag.
      retryOptions: { disableRetry: true },
      // minio-js grows the part size by itself for objects that would need more than 10,000 parts.
      partSize: options.partSizeBytes ?? DEFAULT_PART_SIZE_BYTES,
    });
  }

  onModuleDestroy(): void {
    this.close();
  }

  /** Destroys the pooled sockets, in use or not: call once nothing runs any more (shutdown). */
  close(): void {
    this.agent.destroy();
  }

  /** Creates the bucket unless it exists; safe when several workers race to create it. */
  async ensureBucket(bucket: string): Promise<void> {
    await this.call(`create bucket ${bucket}`, async () => {
      try {
        await this.client.makeBucket(bucket, this.region);
      } catch (error) {
        if (!hasS3Code(error, 'BucketAlreadyOwnedByYou')) throw error;
      }
    });
  }

  bucketExists(bucket: string): Promise<boolean> {
    return this.call(`check bucket ${bucket}`, () => this.client.bucketExists(bucket));
  }

  /**
   * Uploads `size` bytes from `stream`. The size is required: without it minio-js assumes a
   * 5 TiB object and buffers ~528 MiB parts. A stream carrying a different number of bytes
   * fails with INVALID instead of storing a truncated object. Not retried: a stream cannot
   * be replayed.
   */
  async putStream(bucket: string, key: string, stream: Readable, size: number, contentType = DEFAULT_CONTENT_TYPE): Promise<PutResult> {
    const action = `put ${bucket}/${key}`;
    assertSize(size, action);
    const measured = new MeasuringStream({ expectedSize: size, label: action });
    // minio-js's multipart path watches only its own chunker for errors, so a failing source
    // would leave its promise pending forever: race it against the source's failure.
    const sourceFailed = new Promise<never>((_, reject) => pipeline(stream, measured, (error) => error && reject(error)));
    const upload = this.client.putObject(bucket, key, measured, size, { 'Content-Type': contentType });
    try {
      const result = await Promise.race([upload, sourceFailed]);
      return { etag: result.etag, size };
    } catch (error) {
      // Unconsumed, the source would block its producer (one git process feeds all files).
      measured.destroy();
      // minio-js never aborts a failed multipart upload; its parts would stay on disk unseen.
      // The put's own error is what the caller needs; a failed cleanup is retried by SnapshotWriter.abort().
      await this.removeIncompleteUpload(bucket, key).catch(() => undefined);
      throw toStorageError(error, action);
    }
  }

  async putBuffer(bucket: string, key: string, body: Buffer, contentType = DEFAULT_CONTENT_TYPE): Promise<PutResult> {
    const result = await this.call(`put ${bucket}/${key}`, () =>
      this.client.putObject(bucket, key, body, body.length, { 'Content-Type': contentType }),
    );
    return { etag: result.etag, size: body.length };
  }

  /**
   * Server-side copy of `sourceKey` to `targetKey` in one bucket, with its own Content-Type (the
   * metadata is replaced, not carried over). One request, up to S3's 5 GiB copy limit. The
   * source key goes in a header, encoded by minio-js with encodeURI, so it must be plain: callers
   * copy only from `objects/<hex>`.
   */
  async copyObject(bucket: string, sourceKey: string, targetKey: string, contentType = DEFAULT_CONTENT_TYPE): Promise<void> {
    if (!/^[A-Za-z0-9/._-]+$/.test(sourceKey)) {
      throw new StorageError(StorageErrorCode.INVALID, `copy ${bucket}/${sourceKey}: only plain source keys can be copied server-side`);
    }
    await this.call(`copy ${bucket}/${sourceKey} to ${targetKey}`, () =>
      this.client.copyObject(
        new CopySourceOptions({ Bucket: bucket, Object: sourceKey }),
        new CopyDestinationOptions({
          Bucket: bucket,
          Object: targetKey,
          MetadataDirective: 'REPLACE',
          Headers: { 'Content-Type': contentType },
        }),
      ),
    );
  }

  /** Deletes exactly these keys, 1000 per request; keys must be XML-safe (object-key-rules.ts). */
  async removeObjects(bucket: string, keys: readonly string[]): Promise<number> {
    let removed = 0;
    for (let start = 0; start < keys.length; start += REMOVE_BATCH_SIZE) {
      removed += await this.removeBatch(bucket, keys.slice(start, start + REMOVE_BATCH_SIZE));
    }
    return removed;
  }

  /**
   * Writes the object only if no object has that key (`If-None-Match: *`, which the pinned MinIO
   * honours: a second PUT fails PreconditionFailed and the first bytes stay, checked in
   * test/integration/repository-objects.int-spec.ts). False when it existed.
   */
  async putBufferIfAbsent(
    bucket: string,
    key: string,
    body: Buffer,
    contentType = DEFAULT_CONTENT_TYPE,
    contentEncoding?: string,
  ): Promise<boolean> {
    const headers = {
      'Content-Type': contentType,
      'If-None-Match': '*',
      ...(contentEncoding !== undefined && { 'Content-Encoding': contentEncoding }),
    };
    try {
      await this.call(`put ${bucket}/${key}`, () => this.client.putObject(bucket, key, body, body.length, headers));
      return true;
    } catch (error) {
      if (hasS3Code((error as StorageError).cause, 'PreconditionFailed')) return false;
      throw error;
    }
  }

  /** The object's bytes. Errors while reading the stream itself are not translated. */
  getObject(bucket: string, key: string): Promise<Readable> {
    return this.call(`get ${bucket}/${key}`, () => this.client.getObject(bucket, key));
  }

  async statObject(bucket: string, key: string): Promise<ObjectStat> {
    const stat = await this.call(`stat ${bucket}/${key}`, () => this.client.statObject(bucket, key));
    const contentType = stat.metaData['content-type'];
    return {
      size: stat.size,
      etag: stat.etag,
      lastModified: stat.lastModified,
      contentType: typeof contentType === 'string' ? contentType : undefined,
    };
  }

  /** Every object under `prefix` (recursively), in key order, fetched page by page. */
  async *listObjects(bucket: string, prefix: string): AsyncGenerator<StoredObject> {
    const items = this.client.listObjectsV2(bucket, prefix, true) as unknown as AsyncIterable<BucketItem>;
    try {
      for await (const item of items) {
        if (item.name !== undefined) yield { name: item.name, size: item.size };
      }
    } catch (error) {
      throw toStorageError(error, `list ${bucket}/${prefix}`);
    }
  }

  async listAllObjects(bucket: string, prefix: string): Promise<StoredObject[]> {
    const objects: StoredObject[] = [];
    for await (const object of this.listObjects(bucket, prefix)) objects.push(object);
    return objects;
  }

  /**
   * Deletes every object under `prefix`, 1000 keys per request, and returns how many.
   * An empty prefix is refused: it would wipe every snapshot of the repository.
   */
  async removePrefix(bucket: string, prefix: string): Promise<number> {
    if (!prefix) throw new StorageError(StorageErrorCode.INVALID, `remove ${bucket}: refusing an empty prefix`);
    let removed = 0;
    let batch: string[] = [];
    for await (const object of this.listObjects(bucket, prefix)) {
      batch.push(object.name);
      if (batch.length === REMOVE_BATCH_SIZE) {
        removed += await this.removeBatch(bucket, batch);
        batch = [];
      }
    }
    if (batch.length) removed += await this.removeBatch(bucket, batch);
    return removed;
  }

  /**
   * Everything a snapshot (or a run that died writing one) left under `prefix`: finished objects
   * and the unfinished multipart uploads that listings do not show but still take space. A
   * bucket that does not exist holds nothing to remove.
   */
  async removeSnapshotPrefix(bucket: string, prefix: string): Promise<void> {
    try {
      await this.removeIncompleteUploads(bucket, prefix);
      await this.removePrefix(bucket, prefix);
    } catch (error) {
      if (!(error instanceof StorageError && error.code === StorageErrorCode.NOT_FOUND)) throw error;
    }
  }

  /**
   * Deletes one object with a plain DELETE (no XML body, unlike removePrefix's batches, whose XML
   * cannot carry control characters: see object-key-rules.ts). Deleting a missing key succeeds.
   */
  async removeObject(bucket: string, key: string): Promise<void> {
    await this.call(`remove ${bucket}/${key}`, () => this.client.removeObject(bucket, key));
  }

  /** Removes the bucket if it holds no objects; true if this call removed it. */
  async removeBucketIfEmpty(bucket: string): Promise<boolean> {
    try {
      await this.call(`remove bucket ${bucket}`, () => this.client.removeBucket(bucket));
      return true;
    } catch (error) {
      if (hasS3Code((error as StorageError).cause, 'BucketNotEmpty', 'NoSuchBucket')) return false;
      throw error;
    }
  }

  /** A URL anyone holding it can GET the object with until it expires. */
  async presignedGet(bucket: string, key: string, expirySeconds: number): Promise<string> {
    if (!Number.isInteger(expirySeconds) || expirySeconds < 1 || expirySeconds > MAX_PRESIGN_SECONDS) {
      throw new StorageError(StorageErrorCode.INVALID, `presign ${bucket}/${key}: expiry must be 1..${MAX_PRESIGN_SECONDS} s`);
    }
    return this.call(`presign ${bucket}/${key}`, () => this.client.presignedGetObject(bucket, key, expirySeconds));
  }

  /** Health check: true if the store answered an authenticated request in time. Never throws. */
  async ping(timeoutMs = 2000): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timeout')), timeoutMs);
    });
    try {
      await Promise.race([this.client.listBuckets(), timeout]);
      return true;
    } catch {
      // Health checks report, they do not fail: the caller turns false into "storage down".
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Aborts unfinished multipart uploads of exactly `key`; returns how many. */
  removeIncompleteUpload(bucket: string, key: string): Promise<number> {
    return this.abortUploads(bucket, key, (uploadKey) => uploadKey === key);
  }

  /** Aborts unfinished multipart uploads of every key under `prefix`; returns how many. */
  removeIncompleteUploads(bucket: string, prefix: string): Promise<number> {
    return this.abortUploads(bucket, prefix, () => true);
  }

  private async abortUploads(bucket: string, prefix: string, matches: (key: string) => boolean): Promise<number> {
    const action = `abort uploads ${bucket}/${prefix}`;
    const pending: { key: string; uploadId: string }[] = [];
    let keyMarker = '';
    let uploadIdMarker = '';
    for (;;) {
      const page = await this.call(action, () => this.client.listIncompleteUploadsQuery(bucket, prefix, keyMarker, uploadIdMarker, ''));
      pending.push(...page.uploads.filter((upload) => matches(upload.key)));
      if (!page.isTruncated) break;
      keyMarker = page.nextKeyMarker;
      uploadIdMarker = page.nextUploadIdMarker;
    }
    for (const upload of pending) {
      await this.call(action, async () => {
        try {
          await this.client.abortMultipartUpload(bucket, upload.key, upload.uploadId);
        } catch (error) {
          // Finished or aborted since the listing: either way it is gone.
          if (!hasS3Code(error, 'NoSuchUpload')) throw error;
        }
      });
    }
    return pending.length;
  }

  private async removeBatch(bucket: string, keys: string[]): Promise<number> {
    const results = (await this.call(`remove ${keys.length} objects from ${bucket}`, () =>
      this.client.removeObjects(bucket, keys),
    )) as unknown[];
    // minio-js returns the per-key failures of the quiet DeleteObjects answer.
    const failures = results.filter(Boolean) as {
      Key?: string;
      Code?: string;
      Message?: string;
      Error?: { Key?: string; Code?: string; Message?: string };
    }[];
    if (failures.length) {
      const first = failures[0].Error ?? failures[0];
      throw new StorageError(
        StorageErrorCode.FAILED,
        `remove from ${bucket}: ${failures.length} of ${keys.length} objects not deleted (${first.Key}: ${first.Code} ${first.Message ?? ''})`,
      );
    }
    return keys.length;
  }

  /** Runs a replayable call, retrying transient failures with exponential backoff. */
  private async call<T>(action: string, run: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await run();
      } catch (error) {
        const failure = toStorageError(error, action);
        if (!failure.transient || attempt >= this.retryAttempts) throw failure;
        await sleep(this.retryBaseDelayMs * 4 ** (attempt - 1));
      }
    }
  }
}

function assertSize(size: number, action: string): void {
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new StorageError(StorageErrorCode.INVALID, `${action}: size must be a non-negative integer, got ${size}`);
  }
}

import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Global, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { APP_CONFIG, loadConfig } from '@archiver/config';
import {
  bucketNameFor,
  consoleUrlFor,
  manifestKey,
  MinioHealthIndicator,
  ObjectStoreRepository,
  SnapshotFileSource,
  SnapshotManifest,
  snapshotPrefix,
  SnapshotWriter,
  StorageErrorCode,
  StorageModule,
} from '@archiver/storage';
import { freePort, readAll } from '@archiver/testing';

// The project's testTimeout (jest.config.js) does not reach tests run through `projects` here; the
// multi-megabyte uploads need more than Jest's default 5 s on a busy machine.
jest.setTimeout(60_000);

const MiB = 1024 * 1024;
const config = loadConfig();
const runId = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const gitBlobSha = (data: Buffer) => createHash('sha1').update(`blob ${data.length}\0`).update(data).digest('hex');

/** `size` random bytes produced chunk by chunk (never one Buffer), with their sha256. */
function generatedStream(size: number, options: { failAfter?: number } = {}): { stream: Readable; sha256: () => string } {
  const hash = createHash('sha256');
  async function* chunks() {
    for (let sent = 0; sent < size;) {
      if (options.failAfter !== undefined && sent >= options.failAfter) throw new Error('source broke');
      const chunk = randomBytes(Math.min(MiB, size - sent));
      hash.update(chunk);
      sent += chunk.length;
      yield chunk;
    }
  }
  return { stream: Readable.from(chunks()), sha256: () => hash.digest('hex') };
}

async function inBatches<T>(items: T[], size: number, run: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(run));
}

describe('ObjectStoreRepository on the real MinIO', () => {
  const sut = new ObjectStoreRepository(config.minio);
  const bucket = `archiver-it-${runId}`;

  beforeAll(async () => {
    await sut.ensureBucket(bucket);
  });

  afterAll(async () => {
    try {
      await sut.removeIncompleteUploads(bucket, '');
      for (const folder of ['it/', 'snapshots/']) await sut.removePrefix(bucket, folder);
      expect(await sut.listAllObjects(bucket, '')).toEqual([]);
      expect(await sut.removeBucketIfEmpty(bucket)).toBe(true);
    } finally {
      sut.close();
    }
  });

  it('ensureBucket is idempotent, also when several callers race', async () => {
    const raced = `archiver-it-${runId}-race`;
    try {
      await Promise.all(Array.from({ length: 6 }, () => sut.ensureBucket(raced)));
      await sut.ensureBucket(raced);
      expect(await sut.bucketExists(raced)).toBe(true);
    } finally {
      expect(await sut.removeBucketIfEmpty(raced)).toBe(true);
    }
    expect(await sut.bucketExists(raced)).toBe(false);
  });

  it('stores a ~20 MB stream with the given size and reads it back byte-identical', async () => {
    const size = 20 * MiB + 12345;
    const source = generatedStream(size);
    await sut.putStream(bucket, 'it/twenty.bin', source.stream, size);

    expect(await sut.statObject(bucket, 'it/twenty.bin')).toMatchObject({ size, contentType: 'application/octet-stream' });
    const back = await readAll(await sut.getObject(bucket, 'it/twenty.bin'));
    expect(back.length).toBe(size);
    expect(sha256(back)).toBe(source.sha256());
  });

  it('streams an object larger than one part (multipart upload)', async () => {
    const size = 70 * MiB;
    const source = generatedStream(size);
    await sut.putStream(bucket, 'it/multipart.bin', source.stream, size, 'application/x-test');

    expect(await sut.statObject(bucket, 'it/multipart.bin')).toMatchObject({ size, contentType: 'application/x-test' });
    expect(sha256(await readAll(await sut.getObject(bucket, 'it/multipart.bin')))).toBe(source.sha256());
  });

  it('fails (rather than hangs) when a multipart source breaks, leaving no unfinished upload', async () => {
    const source = generatedStream(100 * MiB, { failAfter: 80 * MiB });
    await expect(sut.putStream(bucket, 'it/broken.bin', source.stream, 100 * MiB)).rejects.toMatchObject({ name: 'StorageError' });
    expect(await sut.removeIncompleteUpload(bucket, 'it/broken.bin')).toBe(0);
    await expect(sut.statObject(bucket, 'it/broken.bin')).rejects.toMatchObject({ code: StorageErrorCode.NOT_FOUND });
  });

  it('refuses a stream shorter than its declared size instead of storing it truncated', async () => {
    const stream = Readable.from([Buffer.from('only this')]);
    await expect(sut.putStream(bucket, 'it/short.txt', stream, 1000)).rejects.toMatchObject({ code: StorageErrorCode.INVALID });
    await expect(sut.statObject(bucket, 'it/short.txt')).rejects.toMatchObject({ code: StorageErrorCode.NOT_FOUND });
  });

  it('maps missing buckets and objects to NOT_FOUND', async () => {
    await expect(sut.getObject(bucket, 'it/missing')).rejects.toMatchObject({ code: StorageErrorCode.NOT_FOUND, transient: false });
    await expect(sut.putBuffer(`archiver-it-${runId}-none`, 'k', Buffer.from('x'))).rejects.toMatchObject({
      code: StorageErrorCode.NOT_FOUND,
    });
  });

  it('serves a presigned GET that plain fetch can read', async () => {
    const body = randomBytes(64 * 1024);
    await sut.putBuffer(bucket, 'it/presigned dir/file #1.bin', body);
    const url = await sut.presignedGet(bucket, 'it/presigned dir/file #1.bin', 60);

    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(Buffer.from(await response.arrayBuffer()).equals(body)).toBe(true);
    await expect(sut.presignedGet(bucket, 'it/x', 0)).rejects.toMatchObject({ code: StorageErrorCode.INVALID });
  });

  it('removes a prefix of more than 1000 objects in batches, leaving other prefixes alone', async () => {
    const keys = Array.from({ length: 1105 }, (_, i) => `it/many/${String(i).padStart(4, '0')}`);
    await inBatches(keys, 50, (key) => sut.putBuffer(bucket, key, Buffer.from(key)));
    await sut.putBuffer(bucket, 'it/many-sibling', Buffer.from('keep'));

    expect(await sut.listAllObjects(bucket, 'it/many/')).toHaveLength(1105);
    expect(await sut.removePrefix(bucket, 'it/many/')).toBe(1105);
    expect(await sut.listAllObjects(bucket, 'it/many/')).toEqual([]);
    expect(await sut.listAllObjects(bucket, 'it/many-sibling')).toEqual([{ name: 'it/many-sibling', size: 4 }]);
    await expect(sut.removePrefix(bucket, '')).rejects.toMatchObject({ code: StorageErrorCode.INVALID });
  });

  it('removes a bucket only once it is empty', async () => {
    const other = `archiver-it-${runId}-empty`;
    await sut.ensureBucket(other);
    await sut.putBuffer(other, 'snapshots/x', Buffer.from('x'));
    expect(await sut.removeBucketIfEmpty(other)).toBe(false);
    await sut.removePrefix(other, 'snapshots/');
    expect(await sut.removeBucketIfEmpty(other)).toBe(true);
    expect(await sut.bucketExists(other)).toBe(false);
    expect(await sut.removeBucketIfEmpty(other)).toBe(false);
  });

  it('pings true against MinIO and false, quickly, against a closed port', async () => {
    expect(await sut.ping()).toBe(true);
    const down = new ObjectStoreRepository({ ...config.minio, endpoint: `http://127.0.0.1:${await freePort()}` });
    const started = Date.now();
    try {
      expect(await down.ping(1000)).toBe(false);
      expect(Date.now() - started).toBeLessThan(1500);
      await expect(down.bucketExists('any-bucket')).rejects.toMatchObject({ code: StorageErrorCode.UNAVAILABLE, transient: true });
    } finally {
      down.close();
    }
  });

  it('links a snapshot to a console page the MinIO console serves', async () => {
    const response = await fetch(consoleUrlFor(config.minio.consoleUrl, bucket, 'snapshots/'));
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('MinIO Console');
  });
});

describe('SnapshotWriter on the real MinIO', () => {
  const store = new ObjectStoreRepository(config.minio);
  const normalizedUrl = `https://example.org/it-${runId}/repo`;
  const bucket = bucketNameFor(normalizedUrl);
  const archiveId = randomUUID();
  const prefix = snapshotPrefix(new Date(), archiveId);
  let workDir: string;

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'storage-it-'));
    await store.ensureBucket(bucket);
  });

  afterAll(async () => {
    try {
      await store.removePrefix(bucket, 'snapshots/');
      await store.removeBucketIfEmpty(bucket);
    } finally {
      store.close();
      await rm(workDir, { recursive: true, force: true });
    }
  });

  it('writes files to objects/, bundle and finally the manifest; reads back byte-identical; abort removes the prefix', async () => {
    const files = [
      ...Array.from({ length: 300 }, (_, i) => ({ path: `src/dir-${i % 7}/file-${i}.txt`, content: randomBytes(i * 29) })),
      { path: 'assets/large.bin', content: randomBytes(3 * MiB) },
      { path: 'unicode/ünïcødé 名前.md', content: Buffer.from('# hello\n') },
    ];
    const source = (async function* (): AsyncGenerator<SnapshotFileSource> {
      for (const file of files) {
        yield {
          pathBytes: Buffer.from(file.path),
          size: file.content.length,
          mode: '100644',
          sha: gitBlobSha(file.content),
          stream: Readable.from([file.content]),
        };
      }
    })();
    const bundlePath = join(workDir, 'repo.bundle');
    const bundleContent = randomBytes(2 * MiB);
    await writeFile(bundlePath, bundleContent);
    const sut = new SnapshotWriter(store, { bucket, prefix });

    const entries = await sut.uploadFiles(source, { concurrency: 8 });
    const bundle = await sut.uploadBundle(bundlePath);
    await expect(store.statObject(bucket, manifestKey(prefix))).rejects.toMatchObject({ code: StorageErrorCode.NOT_FOUND });

    const stored = await store.listAllObjects(bucket, prefix);
    expect(stored.map((object) => object.name)).toEqual([`${prefix}repo.bundle`]);
    const blobs = await store.listAllObjects(bucket, 'objects/');
    expect(blobs).toHaveLength(new Set(files.map((file) => gitBlobSha(file.content))).size);
    expect(entries).toHaveLength(files.length);
    for (const [i, file] of files.entries()) {
      expect(entries[i]).toMatchObject({
        path: file.path,
        key: `objects/${gitBlobSha(file.content).slice(0, 2)}/${gitBlobSha(file.content).slice(2)}`,
        size: file.content.length,
        sha256: sha256(file.content),
      });
    }
    await inBatches(files, 20, async (file) => {
      // Hashes, not toEqual: Jest compares Buffers byte by byte, which takes seconds for megabytes.
      const key = `objects/${gitBlobSha(file.content).slice(0, 2)}/${gitBlobSha(file.content).slice(2)}`;
      expect(sha256(await readAll(await store.getObject(bucket, key)))).toBe(sha256(file.content));
    });
    expect(bundle).toEqual({ key: `${prefix}repo.bundle`, size: bundleContent.length, sha256: sha256(bundleContent) });

    const now = new Date().toISOString();
    const manifest: SnapshotManifest = {
      version: 2,
      url: `${normalizedUrl}.git`,
      normalizedUrl,
      archiveId,
      commit: 'a'.repeat(40),
      commitSource: 'HEAD',
      defaultBranch: 'main',
      refs: [{ name: 'refs/heads/main', sha: 'a'.repeat(40) }],
      files: entries,
      fileCount: entries.length,
      byteCount: entries.reduce((sum, entry) => sum + entry.size, 0),
      mappedPathCount: 0,
      bundle,
      timestamps: { createdAt: now, injectedAt: now, startedAt: now, finishedAt: now },
      empty: false,
    };
    await sut.writeManifest(manifest);

    const manifestStat = await store.statObject(bucket, manifestKey(prefix));
    expect(manifestStat.contentType).toBe('application/json');
    const others = await Promise.all(stored.map((object) => store.statObject(bucket, object.name)));
    expect(others.every((other) => other.lastModified <= manifestStat.lastModified)).toBe(true);
    expect(JSON.parse((await readAll(await store.getObject(bucket, manifestKey(prefix)))).toString())).toEqual(manifest);

    await sut.abort();
    expect(await store.listAllObjects(bucket, prefix)).toEqual([]);
    // Blobs stay: another snapshot may map its files to them (README: storage layout).
    expect(await store.listAllObjects(bucket, 'objects/')).toHaveLength(blobs.length);
  });
});

describe(StorageModule.name, () => {
  @Global()
  @Module({ providers: [{ provide: APP_CONFIG, useValue: config }], exports: [APP_CONFIG] })
  class TestConfigModule {}

  it('builds the repository from APP_CONFIG and reports MinIO healthy', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [TestConfigModule, StorageModule] }).compile();
    try {
      expect(await moduleRef.get(MinioHealthIndicator).check()).toBe(true);
      expect(moduleRef.get(ObjectStoreRepository)).toBeInstanceOf(ObjectStoreRepository);
    } finally {
      await moduleRef.close();
    }
  });
});

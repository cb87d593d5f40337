import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { readAll, rejectionOf, waitFor } from '@archiver/testing';
import type { PutResult } from './object-store.repository';
import type { SnapshotManifest } from './snapshot-manifest';
import { SnapshotFileSource, SnapshotStore, SnapshotWriter } from './snapshot-writer';
import { StorageError, StorageErrorCode } from './storage.error';

const KiB = 1024;
const PREFIX = 'snapshots/20240102T030405Z-3f9a1c2b/';

/** Records what the writer does with the store; uploads take a little time so they overlap. */
class FakeStore implements SnapshotStore {
  readonly objects = new Map<string, Buffer>();
  readonly events: string[] = [];
  readonly streamedSizes = new Map<string, number>();
  inFlight = 0;
  maxInFlight = 0;
  bufferedInFlight = 0;
  maxBufferedInFlight = 0;
  streamsInFlight = 0;
  maxStreamsInFlight = 0;
  failKey: string | undefined;

  async putBuffer(_bucket: string, key: string, body: Buffer): Promise<PutResult> {
    this.bufferedInFlight += body.length;
    this.maxBufferedInFlight = Math.max(this.maxBufferedInFlight, this.bufferedInFlight);
    try {
      return await this.put(key, async () => body);
    } finally {
      this.bufferedInFlight -= body.length;
    }
  }

  async putStream(_bucket: string, key: string, stream: Readable, size: number): Promise<PutResult> {
    this.streamedSizes.set(key, size);
    this.maxStreamsInFlight = Math.max(this.maxStreamsInFlight, ++this.streamsInFlight);
    try {
      return await this.put(key, () => readAll(stream));
    } finally {
      this.streamsInFlight--;
    }
  }

  async removePrefix(_bucket: string, prefix: string): Promise<number> {
    this.events.push(`remove ${prefix}`);
    const keys = [...this.objects.keys()].filter((key) => key.startsWith(prefix));
    keys.forEach((key) => this.objects.delete(key));
    return keys.length;
  }

  async removeIncompleteUploads(_bucket: string, prefix: string): Promise<number> {
    this.events.push(`abort uploads ${prefix}`);
    return 0;
  }

  private async put(key: string, read: () => Promise<Buffer>): Promise<PutResult> {
    this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
    try {
      const body = await read();
      await sleep(2);
      if (key === this.failKey) throw new StorageError(StorageErrorCode.UNAVAILABLE, `put ${key} failed: ECONNRESET`);
      this.objects.set(key, body);
      this.events.push(`put ${key}`);
      return { etag: 'etag', size: body.length };
    } finally {
      this.inFlight--;
    }
  }
}

interface FakeFile {
  /** A string for UTF-8 paths, raw bytes otherwise. */
  path: string | Buffer;
  content: Buffer;
}

const gitBlobSha = (content: Buffer) => createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
const sha256 = (content: Buffer) => createHash('sha256').update(content).digest('hex');

/**
 * Behaves like `git cat-file --batch`: one blob after another, and it refuses to move on
 * while the previous blob's stream is unread.
 */
function gitLikeSource(files: FakeFile[], state = { returned: false, produced: 0 }): AsyncIterable<SnapshotFileSource> {
  return (async function* () {
    try {
      for (const file of files) {
        const chunks = [];
        for (let offset = 0; offset < file.content.length; offset += 16 * KiB)
          chunks.push(file.content.subarray(offset, offset + 16 * KiB));
        const stream = Readable.from(chunks);
        state.produced++;
        const pathBytes = Buffer.isBuffer(file.path) ? file.path : Buffer.from(file.path);
        yield { pathBytes, size: file.content.length, mode: '100644', sha: gitBlobSha(file.content), stream };
        if (!stream.readableEnded) throw new Error(`source advanced past ${file.path} before it was read`);
      }
    } finally {
      state.returned = true;
    }
  })();
}

const smallFiles = (count: number, size: number): FakeFile[] =>
  Array.from({ length: count }, (_, i) => ({ path: `dir${i % 3}/file-${String(i).padStart(3, '0')}.txt`, content: randomBytes(size) }));

function manifestFor(files: Awaited<ReturnType<SnapshotWriter['uploadFiles']>>): SnapshotManifest {
  const now = new Date().toISOString();
  return {
    version: 2,
    url: 'https://example.org/a/b.git',
    normalizedUrl: 'https://example.org/a/b',
    archiveId: '3f9a1c2b-0000-4000-8000-000000000000',
    commit: 'c'.repeat(40),
    commitSource: 'HEAD',
    defaultBranch: 'main',
    refs: [{ name: 'refs/heads/main', sha: 'c'.repeat(40) }],
    files,
    fileCount: files.length,
    byteCount: files.reduce((sum, file) => sum + file.size, 0),
    mappedPathCount: 0,
    bundle: null,
    timestamps: { createdAt: now, injectedAt: now, startedAt: now, finishedAt: now },
    empty: false,
  };
}

describe(SnapshotWriter.name, () => {
  let store: FakeStore;
  let sut: SnapshotWriter;

  beforeEach(() => {
    store = new FakeStore();
    sut = new SnapshotWriter(store, { bucket: 'bucket', prefix: PREFIX });
  });

  it('uploads every file under files/ and returns them in source order with both hashes', async () => {
    const files = [
      ...smallFiles(5, 3 * KiB),
      { path: 'big.bin', content: randomBytes(300 * KiB) },
      { path: 'empty', content: Buffer.alloc(0) },
    ];
    const entries = await sut.uploadFiles(gitLikeSource(files), { concurrency: 3, smallFileBytes: 64 * KiB });

    expect(entries.map((entry) => entry.path)).toEqual(files.map((file) => file.path));
    for (const [i, file] of files.entries()) {
      expect(store.objects.get(`${PREFIX}files/${file.path}`)?.equals(file.content)).toBe(true);
      expect(entries[i]).toEqual({
        path: file.path,
        key: `${PREFIX}files/${String(file.path)}`,
        size: file.content.length,
        mode: '100644',
        gitSha: gitBlobSha(file.content),
        sha256: sha256(file.content),
      });
    }
  });

  it('uploads small files in parallel but never more than `concurrency` at once', async () => {
    await sut.uploadFiles(gitLikeSource(smallFiles(40, 2 * KiB)), { concurrency: 4 });
    expect(store.maxInFlight).toBe(4);
    expect(store.objects.size).toBe(40);
  });

  it('uploads one at a time with concurrency 1', async () => {
    await sut.uploadFiles(gitLikeSource(smallFiles(10, KiB)), { concurrency: 1 });
    expect(store.maxInFlight).toBe(1);
  });

  it('caps the bytes held in memory awaiting upload', async () => {
    await sut.uploadFiles(gitLikeSource(smallFiles(30, 100 * KiB)), {
      concurrency: 10,
      smallFileBytes: 128 * KiB,
      maxBufferedBytes: 300 * KiB,
    });
    expect(store.maxBufferedInFlight).toBeLessThanOrEqual(300 * KiB);
    expect(store.maxInFlight).toBeGreaterThan(1);
  });

  it('streams large files one at a time with their declared size, alongside small uploads', async () => {
    const files = [
      ...smallFiles(4, KiB),
      { path: 'large-1', content: randomBytes(200 * KiB) },
      { path: 'large-2', content: randomBytes(150 * KiB) },
      ...smallFiles(4, KiB),
    ];
    await sut.uploadFiles(gitLikeSource(files), { concurrency: 4, smallFileBytes: 100 * KiB });
    expect(store.maxStreamsInFlight).toBe(1);
    expect(store.maxInFlight).toBeLessThanOrEqual(4);
    expect(store.streamedSizes).toEqual(
      new Map([
        [`${PREFIX}files/large-1`, 200 * KiB],
        [`${PREFIX}files/large-2`, 150 * KiB],
      ]),
    );
  });

  it('refuses the manifest while uploads run, then writes it last', async () => {
    const uploading = sut.uploadFiles(gitLikeSource(smallFiles(20, KiB)), { concurrency: 2 });
    await expect(sut.writeManifest(manifestFor([]))).rejects.toMatchObject({ code: StorageErrorCode.INVALID });
    const entries = await uploading;

    const key = await sut.writeManifest(manifestFor(entries));
    expect(key).toBe(`${PREFIX}manifest.json`);
    expect(store.events.at(-1)).toBe(`put ${PREFIX}manifest.json`);
    expect(JSON.parse(store.objects.get(key)!.toString())).toMatchObject({ version: 2, fileCount: 20, files: entries });
  });

  it('stops reading the source and waits for running uploads when one fails', async () => {
    const files = smallFiles(50, KiB);
    store.failKey = `${PREFIX}files/${String(files[5].path)}`;
    const state = { returned: false, produced: 0 };

    const error = await rejectionOf(sut.uploadFiles(gitLikeSource(files, state), { concurrency: 3 }));

    expect(error).toMatchObject({ code: StorageErrorCode.UNAVAILABLE, transient: true });
    expect(state.returned).toBe(true);
    expect(state.produced).toBeLessThan(files.length);
    expect(store.inFlight).toBe(0);
  });

  it('fails with INVALID when a blob carries a different size than declared', async () => {
    const source = (async function* () {
      yield { pathBytes: Buffer.from('a'), size: 10, mode: '100644', sha: 'x', stream: Readable.from([Buffer.from('short')]) };
    })();
    await expect(sut.uploadFiles(source, { concurrency: 2 })).rejects.toMatchObject({ code: StorageErrorCode.INVALID });
  });

  it('stores every file of a tree whose names cannot all be keys, each at its own key, with exact paths', async () => {
    const files: FakeFile[] = [
      { path: 'a', content: Buffer.from('object a') },
      { path: 'a/b', content: Buffer.from('below object a') },
      { path: Buffer.from([0x66, 0xff]), content: Buffer.from('f\\xff') },
      { path: Buffer.from([0x66, 0xfe]), content: Buffer.from('f\\xfe, same lossy text as f\\xff') },
      { path: 'f\ufffd', content: Buffer.from('the real U+FFFD') },
      { path: '../escape', content: Buffer.from('dots') },
      { path: 'dup', content: Buffer.from('dup 1') },
      { path: 'dup', content: Buffer.from('dup 2') },
      { path: 'dup', content: Buffer.from('dup 3') },
      { path: 'caf\u00e9', content: Buffer.from('NFC') },
      { path: 'cafe\u0301', content: Buffer.from('NFD') },
      { path: `${'x'.repeat(256)}/y`, content: Buffer.from('long segment') },
    ];
    const entries = await sut.uploadFiles(gitLikeSource(files), { concurrency: 3 });

    expect(new Set(entries.map((entry) => entry.key)).size).toBe(files.length);
    expect(store.objects.size).toBe(files.length);
    for (const [i, file] of files.entries()) {
      const entry = entries[i]!;
      expect(store.objects.get(entry.key)?.equals(file.content)).toBe(true);
      const exact = entry.pathBase64 === undefined ? Buffer.from(entry.path) : Buffer.from(entry.pathBase64, 'base64');
      expect(exact.equals(Buffer.isBuffer(file.path) ? file.path : Buffer.from(file.path))).toBe(true);
    }
    expect(entries.map((entry) => [entry.key.slice(PREFIX.length).replace(/[0-9a-f]{64}/, '<sha>'), entry.mappedBecause])).toEqual([
      ['files/a', undefined],
      ['mapped/<sha>', 'parent-conflict'],
      ['mapped/<sha>', 'not-utf8'],
      ['mapped/<sha>', 'not-utf8'],
      ['files/f\ufffd', undefined],
      ['mapped/<sha>', 'bad-segment'],
      ['files/dup', undefined],
      ['mapped/<sha>-2', 'duplicate'],
      ['mapped/<sha>-3', 'duplicate'],
      ['files/caf\u00e9', undefined],
      ['files/cafe\u0301', undefined],
      ['mapped/<sha>', 'segment-too-long'],
    ]);
    expect(entries[2]).toMatchObject({ path: 'f\ufffd', pathBase64: Buffer.from([0x66, 0xff]).toString('base64') });
    expect(entries[4]?.pathBase64).toBeUndefined();
  });

  it('gives the same tree the same keys every time', async () => {
    const files: FakeFile[] = [{ path: 'a' }, { path: 'a/b' }, { path: Buffer.from([0xc3]) }, { path: 'a' }].map((f) => ({
      ...f,
      content: Buffer.from('x'),
    }));
    const first = await sut.uploadFiles(gitLikeSource(files), { concurrency: 2 });
    const again = await new SnapshotWriter(new FakeStore(), { bucket: 'bucket', prefix: PREFIX }).uploadFiles(gitLikeSource(files), {
      concurrency: 2,
    });
    expect(again).toEqual(first);
  });

  it('rejects a concurrency below 1', async () => {
    await expect(sut.uploadFiles(gitLikeSource([]), { concurrency: 0 })).rejects.toMatchObject({ code: StorageErrorCode.INVALID });
  });

  it('uploads the bundle with its file size and sha256', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'snapshot-writer-'));
    try {
      const content = randomBytes(50 * KiB);
      await writeFile(join(dir, 'repo.bundle'), content);
      const bundle = await sut.uploadBundle(join(dir, 'repo.bundle'));
      expect(bundle).toEqual({ key: `${PREFIX}repo.bundle`, size: content.length, sha256: sha256(content) });
      expect(store.streamedSizes.get(`${PREFIX}repo.bundle`)).toBe(content.length);
      expect(store.objects.get(`${PREFIX}repo.bundle`)?.equals(content)).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('abort removes the manifest first, then unfinished uploads and everything else', async () => {
    const entries = await sut.uploadFiles(gitLikeSource(smallFiles(3, KiB)), { concurrency: 2 });
    await sut.writeManifest(manifestFor(entries));

    await sut.abort();

    expect(store.events.slice(-3)).toEqual([`remove ${PREFIX}manifest.json`, `abort uploads ${PREFIX}`, `remove ${PREFIX}`]);
    expect(store.objects.size).toBe(0);
    await expect(sut.writeManifest(manifestFor(entries))).rejects.toMatchObject({ code: StorageErrorCode.FAILED });
  });

  it('abort during uploads stops them and cleans up after the last one settled', async () => {
    const uploading = rejectionOf(sut.uploadFiles(gitLikeSource(smallFiles(200, KiB)), { concurrency: 2 }));
    await waitFor('uploads to be under way', async () => (store.inFlight > 0 ? true : undefined), 5000, 2);
    await sut.abort();
    expect(await uploading).toMatchObject({ code: StorageErrorCode.FAILED });
    expect(store.events.filter((event) => event.startsWith('put ')).length).toBeLessThan(200);
    expect(store.objects.size).toBe(0);
    expect(store.inFlight).toBe(0);
  });

  describe('cancelled by its AbortSignal', () => {
    let controller: AbortController;

    beforeEach(() => {
      controller = new AbortController();
      sut = new SnapshotWriter(store, { bucket: 'bucket', prefix: PREFIX }, { signal: controller.signal });
    });

    const aborted = { code: StorageErrorCode.ABORTED, transient: true };

    it('starts nothing once aborted: files, bundle and manifest all reject', async () => {
      controller.abort();
      const state = { returned: false, produced: 0 };
      await expect(sut.uploadFiles(gitLikeSource(smallFiles(3, KiB), state), { concurrency: 2 })).rejects.toMatchObject(aborted);
      await expect(sut.uploadBundle('/nonexistent.bundle')).rejects.toMatchObject(aborted);
      await expect(sut.writeManifest(manifestFor([]))).rejects.toMatchObject(aborted);
      expect(state.produced).toBe(0);
      expect(store.objects.size).toBe(0);
    });

    it('destroys a stream being uploaded, starts no further upload, and rejects after in-flight ones settled', async () => {
      // A large file whose source stalls half-way, like git blocked on a slow pipe.
      const stalled = new Readable({ read() {} });
      stalled.push(randomBytes(64 * KiB));
      const files = (async function* (): AsyncGenerator<SnapshotFileSource> {
        for (const [i, content] of smallFiles(4, KiB).entries()) {
          yield {
            pathBytes: Buffer.from(`small-${i}`),
            size: content.content.length,
            mode: '100644',
            sha: 'a',
            stream: Readable.from([content.content]),
          };
        }
        yield { pathBytes: Buffer.from('large'), size: 10 * 1024 * KiB, mode: '100644', sha: 'b', stream: stalled };
        yield { pathBytes: Buffer.from('after'), size: 1, mode: '100644', sha: 'c', stream: Readable.from([Buffer.from('x')]) };
      })();
      const uploading = sut.uploadFiles(files, { concurrency: 2, smallFileBytes: 8 * KiB });
      await waitFor(
        'the large file to be streamed',
        async () => (store.streamedSizes.has(`${PREFIX}files/large`) ? true : undefined),
        5000,
        2,
      );
      controller.abort(new Error('job cancelled'));

      const error = await rejectionOf(uploading, StorageError);
      expect(error).toMatchObject(aborted);
      expect(error.cause).toEqual(new Error('job cancelled'));
      expect(stalled.destroyed).toBe(true);
      expect(store.inFlight).toBe(0);
      expect(store.objects.has(`${PREFIX}files/after`)).toBe(false);
      expect(store.objects.has(`${PREFIX}files/large`)).toBe(false);
    });

    it('rejects promptly while the source itself is stuck (no next blob coming)', async () => {
      const stuck: AsyncIterable<SnapshotFileSource> = {
        [Symbol.asyncIterator]: () => ({ next: () => new Promise<never>(() => undefined) }),
      };
      const uploading = sut.uploadFiles(stuck, { concurrency: 2 });
      setImmediate(() => controller.abort());
      await expect(uploading).rejects.toMatchObject(aborted);
    });

    it('destroys the bundle stream when aborted mid-upload', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'snapshot-writer-'));
      try {
        await writeFile(join(dir, 'repo.bundle'), randomBytes(KiB));
        // A store that has not read anything yet (a slow network): only the stream's end frees it.
        store.putStream = (_bucket, key, stream) => {
          store.streamedSizes.set(key, 0);
          return new Promise<never>((_, reject) => stream.once('error', reject).once('close', () => reject(new Error('closed'))));
        };
        const uploading = sut.uploadBundle(join(dir, 'repo.bundle'));
        await waitFor(
          'the bundle to be streamed',
          async () => (store.streamedSizes.has(`${PREFIX}repo.bundle`) ? true : undefined),
          5000,
          2,
        );
        controller.abort();
        await expect(uploading).rejects.toMatchObject(aborted);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  });
});

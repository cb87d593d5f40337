import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { readAll, rejectionOf, waitFor } from '@archiver/testing';
import type { ObjectStat, PutResult } from './object-store.repository';
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
  readonly contentTypes = new Map<string, string>();
  readonly stats: string[] = [];
  inFlight = 0;
  maxInFlight = 0;
  bufferedInFlight = 0;
  maxBufferedInFlight = 0;
  streamsInFlight = 0;
  maxStreamsInFlight = 0;
  failKey: string | undefined;

  async putBuffer(_bucket: string, key: string, body: Buffer, contentType?: string): Promise<PutResult> {
    if (contentType) this.contentTypes.set(key, contentType);
    this.bufferedInFlight += body.length;
    this.maxBufferedInFlight = Math.max(this.maxBufferedInFlight, this.bufferedInFlight);
    try {
      return await this.put(key, async () => body);
    } finally {
      this.bufferedInFlight -= body.length;
    }
  }

  async putBufferIfAbsent(bucket: string, key: string, body: Buffer, contentType?: string): Promise<boolean> {
    if (this.objects.has(key)) return false;
    await this.putBuffer(bucket, key, body, contentType);
    return true;
  }

  async putStream(_bucket: string, key: string, stream: Readable, size: number, contentType?: string): Promise<PutResult> {
    if (contentType) this.contentTypes.set(key, contentType);
    this.streamedSizes.set(key, size);
    this.maxStreamsInFlight = Math.max(this.maxStreamsInFlight, ++this.streamsInFlight);
    try {
      return await this.put(key, () => readAll(stream));
    } finally {
      this.streamsInFlight--;
    }
  }

  async statObject(_bucket: string, key: string): Promise<ObjectStat> {
    this.stats.push(key);
    const body = this.objects.get(key);
    if (!body) throw new StorageError(StorageErrorCode.NOT_FOUND, `stat ${key}: no such object`);
    return { size: body.length, etag: 'etag', lastModified: new Date(), contentType: this.contentTypes.get(key) };
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
const objectOf = (content: Buffer) => `objects/${gitBlobSha(content).slice(0, 2)}/${gitBlobSha(content).slice(2)}`;
const fakeSha = (n: number) => n.toString(16).padStart(40, '0');

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
        if (!stream.readableEnded && !stream.destroyed) throw new Error(`source advanced past ${file.path} before it was read`);
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

  it('uploads every blob to objects/<git id> and returns the files in source order with both hashes', async () => {
    const files = [
      ...smallFiles(5, 3 * KiB),
      { path: 'big.bin', content: randomBytes(300 * KiB) },
      { path: 'empty', content: Buffer.alloc(0) },
    ];
    const entries = await sut.uploadFiles(gitLikeSource(files), { concurrency: 3, smallFileBytes: 64 * KiB });

    expect(entries.map((entry) => entry.path)).toEqual(files.map((file) => file.path));
    for (const [i, file] of files.entries()) {
      expect(store.objects.get(objectOf(file.content))?.equals(file.content)).toBe(true);
      expect(entries[i]).toEqual({
        path: file.path,
        key: objectOf(file.content),
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
        [objectOf(files[4]!.content), 200 * KiB],
        [objectOf(files[5]!.content), 150 * KiB],
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
    store.failKey = objectOf(files[5]!.content);
    const state = { returned: false, produced: 0 };

    const error = await rejectionOf(sut.uploadFiles(gitLikeSource(files, state), { concurrency: 3 }));

    expect(error).toMatchObject({ code: StorageErrorCode.UNAVAILABLE, transient: true });
    expect(state.returned).toBe(true);
    expect(state.produced).toBeLessThan(files.length);
    expect(store.inFlight).toBe(0);
  });

  it('fails with INVALID when a blob carries a different size than declared', async () => {
    const source = (async function* () {
      yield { pathBytes: Buffer.from('a'), size: 10, mode: '100644', sha: fakeSha(1), stream: Readable.from([Buffer.from('short')]) };
    })();
    await expect(sut.uploadFiles(source, { concurrency: 2 })).rejects.toMatchObject({ code: StorageErrorCode.INVALID });
  });

  it('maps every path of a tree whose names cannot all be keys to its bytes, with exact paths and latest/ mapping', async () => {
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
    expect(entries.every((entry) => entry.key.startsWith('objects/'))).toBe(true);
    for (const [i, file] of files.entries()) {
      const entry = entries[i]!;
      expect(store.objects.get(entry.key)?.equals(file.content)).toBe(true);
      const exact = entry.pathBase64 === undefined ? Buffer.from(entry.path) : Buffer.from(entry.pathBase64, 'base64');
      expect(exact.equals(Buffer.isBuffer(file.path) ? file.path : Buffer.from(file.path))).toBe(true);
    }
    // mappedBecause: where the path goes in the latest/ view (latest/mapped/ instead of latest/files/<path>).
    expect(entries.map((entry) => entry.mappedBecause)).toEqual([
      undefined,
      'parent-conflict',
      'not-utf8',
      'not-utf8',
      undefined,
      'bad-segment',
      undefined,
      'duplicate',
      'duplicate',
      undefined,
      undefined,
      'segment-too-long',
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

  it('abort removes the manifest first, then unfinished uploads and everything else under the prefix, never objects/', async () => {
    const entries = await sut.uploadFiles(gitLikeSource(smallFiles(3, KiB)), { concurrency: 2 });
    await sut.writeManifest(manifestFor(entries));

    await sut.abort();

    expect(store.events.slice(-3)).toEqual([`remove ${PREFIX}manifest.json`, `abort uploads ${PREFIX}`, `remove ${PREFIX}`]);
    expect([...store.objects.keys()].sort()).toEqual(entries.map((entry) => entry.key).sort());
    await expect(sut.writeManifest(manifestFor(entries))).rejects.toMatchObject({ code: StorageErrorCode.FAILED });
  });

  it('abort during uploads stops them and cleans up after the last one settled', async () => {
    const uploading = rejectionOf(sut.uploadFiles(gitLikeSource(smallFiles(200, KiB)), { concurrency: 2 }));
    await waitFor('uploads to be under way', async () => (store.inFlight > 0 ? true : undefined), 5000, 2);
    await sut.abort();
    expect(await uploading).toMatchObject({ code: StorageErrorCode.FAILED });
    expect(store.events.filter((event) => event.startsWith('put ')).length).toBeLessThan(200);
    expect([...store.objects.keys()].filter((key) => key.startsWith(PREFIX))).toEqual([]);
    expect(store.inFlight).toBe(0);
  });

  describe('storeTree', () => {
    const treeOf = (files: FakeFile[]) =>
      files.map((file) => ({
        pathBytes: Buffer.isBuffer(file.path) ? file.path : Buffer.from(file.path),
        size: file.content.length,
        mode: '100644',
        sha: gitBlobSha(file.content),
        content: file.content,
      }));
    type TreeFile = ReturnType<typeof treeOf>[number];
    const reading = (asked: string[][]) => (files: TreeFile[]) => {
      asked.push(files.map((file) => file.pathBytes.toString()));
      return gitLikeSource(files.map((file) => ({ path: file.pathBytes, content: file.content })));
    };

    it('reads and uploads only blobs not known, each once, and maps every path', async () => {
      const shared = Buffer.from('same bytes at two paths');
      const files: FakeFile[] = [
        { path: 'README.md', content: Buffer.from('# known') },
        { path: 'a.txt', content: shared },
        { path: 'b/copy.txt', content: shared },
        { path: 'new.png', content: randomBytes(3 * KiB) },
      ];
      const tree = treeOf(files);
      const known = new Map([[tree[0]!.sha, { size: tree[0]!.size, sha256: sha256(files[0]!.content) }]]);
      const asked: string[][] = [];

      const entries = await sut.storeTree(tree, reading(asked), { concurrency: 2, known });

      expect(asked).toEqual([['a.txt', 'new.png']]);
      expect([...store.objects.keys()].sort()).toEqual([objectOf(shared), objectOf(files[3]!.content)].sort());
      expect(sut.counts).toEqual({ uploaded: 2, uploadedBytes: shared.length + 3 * KiB, present: 0, known: 1 });
      expect(entries.map((entry) => [entry.path, entry.key, entry.sha256])).toEqual(
        files.map((file) => [file.path, objectOf(file.content), sha256(file.content)]),
      );
      expect(store.contentTypes.get(objectOf(files[3]!.content))).toBe('image/png');
    });

    it('never overwrites an object already in the bucket, and never calls the reader when everything is known', async () => {
      const files = smallFiles(6, KiB);
      const tree = treeOf(files);
      await sut.storeTree(tree, reading([]), { concurrency: 3 });
      const puts = store.events.filter((event) => event.startsWith('put ')).length;

      const again = new SnapshotWriter(store, { bucket: 'bucket', prefix: PREFIX });
      const entries = await again.storeTree(tree, reading([]), { concurrency: 3 });
      expect(store.events.filter((event) => event.startsWith('put ')).length).toBe(puts);
      expect(again.counts).toMatchObject({ uploaded: 0, present: 6 });

      const asked: string[][] = [];
      const known = new Map(entries.map((entry) => [entry.gitSha, { size: entry.size, sha256: entry.sha256 }]));
      const third = new SnapshotWriter(store, { bucket: 'bucket', prefix: PREFIX });
      expect(await third.storeTree(tree, reading(asked), { concurrency: 3, known })).toEqual(entries);
      expect(asked).toEqual([]);
    });

    it('does not overwrite a blob another run stored between the check and the upload', async () => {
      const [file] = smallFiles(1, KiB);
      const key = objectOf(file!.content);
      store.objects.set(key, file!.content);
      // The check misses it (the other run's upload completed just after), the conditional PUT does not.
      store.statObject = async () => {
        throw new StorageError(StorageErrorCode.NOT_FOUND, 'not yet');
      };
      const before = store.events.length;
      await sut.storeTree(treeOf([file!]), reading([]), { concurrency: 1 });
      expect(sut.counts).toMatchObject({ uploaded: 0, present: 1 });
      expect(store.events.slice(before)).toEqual([]);
    });

    it('reads a known blob whose size disagrees with the tree instead of trusting it', async () => {
      const tree = treeOf([{ path: 'x', content: Buffer.from('real') }]);
      const asked: string[][] = [];
      const known = new Map([[tree[0]!.sha, { size: 99, sha256: 'f'.repeat(64) }]]);
      const [entry] = await sut.storeTree(tree, reading(asked), { concurrency: 1, known });
      expect(asked).toEqual([['x']]);
      expect(entry!.sha256).toBe(sha256(Buffer.from('real')));
    });
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
            sha: fakeSha(10 + i),
            stream: Readable.from([content.content]),
          };
        }
        yield { pathBytes: Buffer.from('large'), size: 10 * 1024 * KiB, mode: '100644', sha: fakeSha(2), stream: stalled };
        yield { pathBytes: Buffer.from('after'), size: 1, mode: '100644', sha: fakeSha(3), stream: Readable.from([Buffer.from('x')]) };
      })();
      const uploading = sut.uploadFiles(files, { concurrency: 2, smallFileBytes: 8 * KiB });
      await waitFor(
        'the large file to be streamed',
        async () => (store.streamedSizes.has(`objects/00/${fakeSha(2).slice(2)}`) ? true : undefined),
        5000,
        2,
      );
      controller.abort(new Error('job cancelled'));

      const error = await rejectionOf(uploading, StorageError);
      expect(error).toMatchObject(aborted);
      expect(error.cause).toEqual(new Error('job cancelled'));
      expect(stalled.destroyed).toBe(true);
      expect(store.inFlight).toBe(0);
      expect(store.objects.has(`objects/00/${fakeSha(3).slice(2)}`)).toBe(false);
      expect(store.objects.has(`objects/00/${fakeSha(2).slice(2)}`)).toBe(false);
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

import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
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
      return await this.put(key, async () => {
        const chunks: Buffer[] = [];
        for await (const chunk of stream) chunks.push(chunk as Buffer);
        return Buffer.concat(chunks);
      });
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
  path: string;
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
        yield { path: file.path, size: file.content.length, mode: '100644', sha: gitBlobSha(file.content), stream };
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
    version: 1,
    url: 'https://example.org/a/b.git',
    normalizedUrl: 'https://example.org/a/b',
    archiveId: '3f9a1c2b-0000-4000-8000-000000000000',
    commit: 'c'.repeat(40),
    defaultBranch: 'main',
    refs: [{ name: 'refs/heads/main', sha: 'c'.repeat(40) }],
    files,
    fileCount: files.length,
    byteCount: files.reduce((sum, file) => sum + file.size, 0),
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
    expect(JSON.parse(store.objects.get(key)!.toString())).toMatchObject({ version: 1, fileCount: 20, files: entries });
  });

  it('stops reading the source and waits for running uploads when one fails', async () => {
    const files = smallFiles(50, KiB);
    store.failKey = `${PREFIX}files/${files[5].path}`;
    const state = { returned: false, produced: 0 };

    const error = await sut.uploadFiles(gitLikeSource(files, state), { concurrency: 3 }).catch((e: unknown) => e);

    expect(error).toMatchObject({ code: StorageErrorCode.UNAVAILABLE, transient: true });
    expect(state.returned).toBe(true);
    expect(state.produced).toBeLessThan(files.length);
    expect(store.inFlight).toBe(0);
  });

  it('fails with INVALID when a blob carries a different size than declared', async () => {
    const source = (async function* () {
      yield { path: 'a', size: 10, mode: '100644', sha: 'x', stream: Readable.from([Buffer.from('short')]) };
    })();
    await expect(sut.uploadFiles(source, { concurrency: 2 })).rejects.toMatchObject({ code: StorageErrorCode.INVALID });
  });

  it.each(['../escape', 'a//b', './a', 'a/..', '/abs'])('fails with INVALID for path %j that MinIO cannot store', async (path) => {
    await expect(sut.uploadFiles(gitLikeSource([{ path, content: Buffer.from('x') }]), { concurrency: 2 })).rejects.toMatchObject({
      code: StorageErrorCode.INVALID,
    });
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
    const uploading = sut.uploadFiles(gitLikeSource(smallFiles(200, KiB)), { concurrency: 2 }).catch((e: unknown) => e);
    await sleep(10);
    await sut.abort();
    expect(await uploading).toMatchObject({ code: StorageErrorCode.FAILED });
    expect(store.objects.size).toBe(0);
    expect(store.inFlight).toBe(0);
  });
});

import { Readable } from 'node:stream';
import { readAll } from '@archiver/testing';
import { LATEST_RECORD_KEY, LatestStore, LatestView } from './latest-view';
import type { PutResult, StoredObject } from './object-store.repository';
import { objectKey } from './repository-objects';
import type { SnapshotFileEntry, SnapshotManifest } from './snapshot-manifest';
import { StorageError, StorageErrorCode } from './storage.error';

/** One bucket in memory, with the calls the view makes. */
class MemoryStore implements LatestStore {
  readonly objects = new Map<string, { body: Buffer; type?: string }>();
  copies: string[] = [];
  failCopyTo: string | undefined;

  async getObject(_bucket: string, key: string): Promise<Readable> {
    const object = this.objects.get(key);
    if (!object) throw new StorageError(StorageErrorCode.NOT_FOUND, `no ${key}`);
    return Readable.from([object.body]);
  }
  async putBuffer(_bucket: string, key: string, body: Buffer, type?: string): Promise<PutResult> {
    this.objects.set(key, { body, type });
    return { etag: 'e', size: body.length };
  }
  async putStream(_bucket: string, key: string, stream: Readable, size: number, type?: string): Promise<PutResult> {
    this.objects.set(key, { body: await readAll(stream), type });
    return { etag: 'e', size };
  }
  async copyObject(_bucket: string, from: string, to: string, type?: string): Promise<void> {
    if (to === this.failCopyTo) throw new StorageError(StorageErrorCode.UNAVAILABLE, 'copy failed');
    this.copies.push(to);
    this.objects.set(to, { body: this.objects.get(from)!.body, type });
  }
  async *listObjects(_bucket: string, prefix: string): AsyncGenerator<StoredObject> {
    for (const [name, { body }] of [...this.objects].sort()) if (name.startsWith(prefix)) yield { name, size: body.length };
  }
  async removeObject(_bucket: string, key: string): Promise<void> {
    this.objects.delete(key);
  }
  async removeObjects(_bucket: string, keys: readonly string[]): Promise<number> {
    keys.forEach((key) => this.objects.delete(key));
    return keys.length;
  }
  text(key: string): string | undefined {
    return this.objects.get(key)?.body.toString();
  }
}

describe(LatestView.name, () => {
  let store: MemoryStore;
  let sut: LatestView;
  let blobs = 0;

  /** Stores a snapshot whose tree is `files` (path → content) and returns its prefix. */
  function snapshot(name: string, files: Record<string, string>, contentFrom?: string): string {
    const prefix = `snapshots/${name}/`;
    const entries: SnapshotFileEntry[] = Object.entries(files).map(([path, content]) => {
      const gitSha = (++blobs).toString(16).padStart(40, '0');
      store.objects.set(objectKey(gitSha), { body: Buffer.from(content) });
      return { path, key: objectKey(gitSha), size: content.length, mode: '100644', gitSha, sha256: 'x' };
    });
    const manifest = {
      archiveId: name,
      commit: `commit-${name}`,
      files: contentFrom ? [] : entries,
      ...(contentFrom && { contentFrom: { archiveId: contentFrom, prefix: `snapshots/${contentFrom}/` } }),
    } as unknown as SnapshotManifest;
    store.objects.set(`${prefix}manifest.json`, { body: Buffer.from(JSON.stringify(manifest)) });
    return prefix;
  }
  const view = () =>
    Object.fromEntries(
      [...store.objects.keys()].filter((k) => k.startsWith('latest/files/')).map((k) => [k.slice('latest/files/'.length), store.text(k)]),
    );

  beforeEach(() => {
    store = new MemoryStore();
    sut = new LatestView(store);
  });

  it('shows the tree by path with content types, and names the snapshot in a record written last', async () => {
    const prefix = snapshot('one', { 'README.md': '# hi', 'img/a.png': 'png', LICENSE: 'text' });
    expect(await sut.show('b', prefix)).toEqual({ changed: true, copied: 3, removed: 0 });
    expect(view()).toEqual({ 'README.md': '# hi', 'img/a.png': 'png', LICENSE: 'text' });
    expect(store.objects.get('latest/files/README.md')?.type).toBe('text/markdown');
    expect(store.objects.get('latest/files/LICENSE')?.type).toBe('application/octet-stream');
    expect(await sut.record('b')).toMatchObject({ archiveId: 'one', prefix, commit: 'commit-one', contentPrefix: prefix });
  });

  it('copies only new and changed paths, removes gone ones, and leaves a view already showing the content alone', async () => {
    await sut.show('b', snapshot('one', { keep: 'k', change: 'v1', gone: 'g' }));
    const two = snapshot('two', { keep: 'k', change: 'v2', added: 'new' });
    // Same bytes get the same git id: make `keep` the same blob in both trees.
    const manifest = JSON.parse(store.text(`${two}manifest.json`)!) as SnapshotManifest;
    const first = JSON.parse(store.text('snapshots/one/manifest.json')!) as SnapshotManifest;
    manifest.files![0] = first.files![0]!;
    store.objects.set(`${two}manifest.json`, { body: Buffer.from(JSON.stringify(manifest)) });
    store.copies = [];

    expect(await sut.show('b', two)).toEqual({ changed: true, copied: 2, removed: 1 });
    expect(store.copies.sort()).toEqual(['latest/files/added', 'latest/files/change']);
    expect(view()).toEqual({ keep: 'k', change: 'v2', added: 'new' });

    const unchanged = snapshot('three', {}, 'two');
    expect(await sut.show('b', unchanged)).toEqual({ changed: false, copied: 0, removed: 0 });
  });

  it('replaces a file by a folder of the same name (gone paths go before new ones are written)', async () => {
    await sut.show('b', snapshot('one', { a: 'file a' }));
    await sut.show('b', snapshot('two', { 'a/b': 'below a' }));
    expect(view()).toEqual({ 'a/b': 'below a' });
  });

  it('claims nothing after a failed update, and the next update repairs every path', async () => {
    await sut.show('b', snapshot('one', { x: '1', y: '1' }));
    const two = snapshot('two', { x: '2', y: '2' });
    store.failCopyTo = 'latest/files/y';
    await expect(sut.show('b', two)).rejects.toMatchObject({ code: StorageErrorCode.UNAVAILABLE });
    expect(store.objects.has(LATEST_RECORD_KEY)).toBe(false);

    store.failCopyTo = undefined;
    await sut.show('b', two);
    expect(view()).toEqual({ x: '2', y: '2' });
    expect(await sut.record('b')).toMatchObject({ prefix: two });
  });
});

import { Readable } from 'node:stream';
import type { AuthUser } from '@archiver/auth';
import type { ArchiveRecord } from '@archiver/database';
import {
  encodeTreeListing,
  gitTreeIdOf,
  manifestKey,
  objectKey,
  type ObjectStoreRepository,
  type SnapshotFileEntry,
  StorageError,
  StorageErrorCode,
  type TreeListingEntry,
  treeListingKey,
} from '@archiver/storage';
import { archiveRecord, rejectionOf } from '@archiver/testing';
import { ApiError } from '../../api/api.error';
import type { ArchiveRequestsService } from '../archive-requests.service';
import { SnapshotBrowseService } from './snapshot-browse.service';

const user: AuthUser = { subject: 'sub-demo', username: 'demo', roles: ['archiver-user'], isAdmin: false };
const BUCKET = 'repo-bucket';
const CONTENT = 'snapshots/1-content/';
const UNCHANGED = 'snapshots/2-unchanged/';

const file = (path: string, key = `objects/${path.length}-${path}`): SnapshotFileEntry => ({
  path,
  key,
  size: 3,
  mode: '100644',
  gitSha: 'a'.repeat(40),
  sha256: 'b'.repeat(64),
});

/** A repository the size of git/git's HEAD: ~4,500 files in a few hundred directories. */
const bigTree = Array.from({ length: 4500 }, (_, i) => file(`dir-${i % 300}/sub-${i % 7}/file-${i}.c`));

/** Directory listings of v4 snapshots by key, as the worker writes them. */
const listings = new Map<string, Buffer>();
const listed = (entries: TreeListingEntry[]): string => {
  const id = gitTreeIdOf(entries);
  listings.set(treeListingKey(id), encodeTreeListing(entries));
  return id;
};
const blobEntry = (name: string, seed: string, mode = '100644'): TreeListingEntry => ({
  nameBytes: Buffer.from(name),
  type: 'blob',
  mode,
  id: seed.repeat(40).slice(0, 40),
  size: 5,
});

function fakeStore(manifests: Record<string, object>) {
  const reads: string[] = [];
  const store = {
    reads,
    async getObject(bucket: string, key: string): Promise<Readable> {
      reads.push(key);
      const prefix = key.replace(/manifest\.json$/, '');
      if (key === manifestKey(prefix) && manifests[prefix]) return Readable.from([Buffer.from(JSON.stringify(manifests[prefix]))]);
      if (listings.has(key)) return Readable.from([listings.get(key)!]);
      if (key.startsWith('objects/')) return Readable.from([Buffer.from(`bytes of ${key}`)]);
      throw new StorageError(StorageErrorCode.NOT_FOUND, `${bucket}/${key} not found`);
    },
  };
  return store;
}

function setup(rows: ArchiveRecord[], manifests: Record<string, object>) {
  const store = fakeStore(manifests);
  const archives = {
    findVisible: jest.fn(async (id: string) => {
      const row = rows.find((r) => r.id === id);
      if (!row) throw ApiError.notFound(`No archive ${id}`);
      return row;
    }),
  };
  const sut = new SnapshotBrowseService(archives as unknown as ArchiveRequestsService, store as unknown as ObjectStoreRepository);
  return { sut, store, archives };
}

describe(SnapshotBrowseService.name, () => {
  const changed = archiveRecord({ status: 'completed', bucket: BUCKET, prefix: CONTENT, outcome: 'changed' });
  const unchanged = archiveRecord({ status: 'completed', bucket: BUCKET, prefix: UNCHANGED, outcome: 'unchanged' });
  const manifests = {
    [CONTENT]: { archiveId: changed.id, commit: 'c'.repeat(40), files: [file('README.md', 'objects/readme-bytes'), ...bigTree] },
    [UNCHANGED]: { archiveId: unchanged.id, commit: 'c'.repeat(40), files: [], contentFrom: { archiveId: changed.id, prefix: CONTENT } },
  };

  it('reads a manifest once, however many directories are listed after', async () => {
    const { sut, store } = setup([changed], manifests);
    for (let i = 0; i < 50; i++) await sut.tree(changed.id, user, Buffer.from(`dir-${i}/sub-${i % 7}`));
    const root = await sut.tree(changed.id, user, Buffer.alloc(0));
    expect(root.entries).toHaveLength(301);
    expect(store.reads).toEqual([manifestKey(CONTENT)]);
  });

  it('lists an unchanged visit from the snapshot its manifest names, sharing its cached tree', async () => {
    const { sut, store } = setup([changed, unchanged], manifests);
    const own = await sut.tree(changed.id, user, Buffer.from('dir-1'));
    const revisit = await sut.tree(unchanged.id, user, Buffer.from('dir-1'));
    expect(revisit).toEqual({ ...own, archiveId: unchanged.id });
    expect(store.reads).toEqual([manifestKey(CONTENT), manifestKey(UNCHANGED)]);
  });

  it("streams a file from its manifest entry's key, never a key made from its path", async () => {
    const { sut, store } = setup([changed], manifests);
    const content = await sut.file(changed.id, user, Buffer.from('README.md'));
    expect(store.reads.at(-1)).toBe('objects/readme-bytes');
    expect(content).toMatchObject({ size: 3, etag: 'b'.repeat(64), headers: { 'Content-Type': 'text/markdown; charset=utf-8' } });
  });

  it.each(['pending', 'queued', 'running', 'failed'] as const)('answers NO_SNAPSHOT for a %s archive', async (status) => {
    const row = archiveRecord({ status, bucket: BUCKET, prefix: CONTENT });
    const { sut } = setup([row], manifests);
    const error = (await rejectionOf(sut.tree(row.id, user, Buffer.alloc(0)))) as ApiError;
    expect([error.getStatus(), error.code]).toEqual([404, 'NO_SNAPSHOT']);
  });

  it('answers NO_SNAPSHOT when the manifest is gone, and asks again next time', async () => {
    const { sut, store } = setup([changed], {});
    for (let i = 0; i < 2; i++)
      expect(((await rejectionOf(sut.tree(changed.id, user, Buffer.alloc(0)))) as ApiError).code).toBe('NO_SNAPSHOT');
    expect(store.reads).toHaveLength(2);
  });

  it('leaves visibility to the archive service (another user’s archive is its NOT_FOUND)', async () => {
    const { sut, archives } = setup([], manifests);
    const error = (await rejectionOf(sut.file(changed.id, user, Buffer.from('README.md')))) as ApiError;
    expect([error.getStatus(), error.code]).toEqual([404, 'NOT_FOUND']);
    expect(archives.findVisible).toHaveBeenCalledWith(changed.id, user);
  });

  it.each([
    ['tree', 'README.md', 'NOT_A_DIRECTORY'],
    ['tree', 'nope', 'PATH_NOT_FOUND'],
    ['file', 'dir-1', 'NOT_A_FILE'],
    ['file', 'dir-1/nope', 'PATH_NOT_FOUND'],
  ] as const)('%s of %s answers %s', async (method, path, code) => {
    const { sut } = setup([changed], manifests);
    const error = (await rejectionOf(sut[method](changed.id, user, Buffer.from(path)))) as ApiError;
    expect([error.getStatus(), error.code]).toEqual([404, code]);
  });

  describe('a v4 snapshot (files listed by tree)', () => {
    const lib = listed([blobEntry('util.c', 'a'), blobEntry('run.sh', 'b', '100755')]);
    const docs = listed([blobEntry('guide.md', 'c')]);
    const root = listed([
      blobEntry('README.md', 'd'),
      { nameBytes: Buffer.from('lib'), type: 'tree', mode: '040000', id: lib },
      { nameBytes: Buffer.from('docs'), type: 'tree', mode: '040000', id: docs },
      { nameBytes: Buffer.from('vendor'), type: 'commit', mode: '160000', id: 'e'.repeat(40) },
      blobEntry('link', 'f', '120000'),
    ]);
    const V4 = 'snapshots/3-v4/';
    const NEXT = 'snapshots/4-v4/';
    const v4 = archiveRecord({ status: 'completed', bucket: BUCKET, prefix: V4, outcome: 'changed' });
    const next = archiveRecord({ status: 'completed', bucket: BUCKET, prefix: NEXT, outcome: 'changed' });
    // The next snapshot changed only README.md: another root, the same lib/ and docs/.
    const nextRoot = listed([
      blobEntry('README.md', '9'),
      { nameBytes: Buffer.from('lib'), type: 'tree', mode: '040000', id: lib },
      { nameBytes: Buffer.from('docs'), type: 'tree', mode: '040000', id: docs },
    ]);
    const v4Manifests = {
      [V4]: { version: 4, archiveId: v4.id, commit: '1'.repeat(40), tree: root },
      [NEXT]: { version: 4, archiveId: next.id, commit: '2'.repeat(40), tree: nextRoot },
    };

    it('lists a directory from the listings on its path only, directories first, no submodules', async () => {
      const { sut, store } = setup([v4], v4Manifests);
      expect((await sut.tree(v4.id, user, Buffer.alloc(0))).entries).toEqual([
        { name: 'docs', type: 'dir', mode: '040000' },
        { name: 'lib', type: 'dir', mode: '040000' },
        { name: 'README.md', type: 'file', size: 5, mode: '100644' },
        { name: 'link', type: 'symlink', size: 5, mode: '120000' },
      ]);
      expect((await sut.tree(v4.id, user, Buffer.from('lib'))).entries.map((e) => [e.name, e.type])).toEqual([
        ['run.sh', 'executable'],
        ['util.c', 'file'],
      ]);
      expect(store.reads).toEqual([manifestKey(V4), treeListingKey(root), treeListingKey(lib)]);
    });

    it('streams a file from objects/<git id> with the git id as its validator', async () => {
      const { sut, store } = setup([v4], v4Manifests);
      const content = await sut.file(v4.id, user, Buffer.from('lib/util.c'));
      expect(store.reads.at(-1)).toBe(objectKey('a'.repeat(40)));
      expect(content).toMatchObject({ size: 5, etag: 'a'.repeat(40) });
    });

    it('reads a directory shared by two snapshots once (listings are cached by tree id)', async () => {
      const { sut, store } = setup([v4, next], v4Manifests);
      await sut.tree(v4.id, user, Buffer.from('docs'));
      await sut.tree(next.id, user, Buffer.from('docs'));
      expect(store.reads.filter((key) => key === treeListingKey(docs))).toHaveLength(1);
    });

    it.each([
      ['tree', 'README.md', 'NOT_A_DIRECTORY'],
      ['tree', 'vendor', 'PATH_NOT_FOUND'],
      ['file', 'lib', 'NOT_A_FILE'],
      ['file', 'lib/nope', 'PATH_NOT_FOUND'],
      ['file', 'README.md/x', 'PATH_NOT_FOUND'],
    ] as const)('%s of %s answers %s', async (method, path, code) => {
      const { sut } = setup([v4], v4Manifests);
      const error = (await rejectionOf(sut[method](v4.id, user, Buffer.from(path)))) as ApiError;
      expect([error.getStatus(), error.code]).toEqual([404, code]);
    });
  });
});

import { MappedReason } from './object-key-rules';
import { objectKey } from './repository-objects';
import { lookupSnapshotPath, onceEach, referencedObjectKeys, walkSnapshotFiles, bucketListings } from './snapshot-files';
import type { SnapshotFileEntry, SnapshotManifest } from './snapshot-manifest';
import { blobId, dirEntry, fileEntry, ListingFakeStore } from './tree-listing.fake-store';
import { treeListingKey } from './tree-listing';

const BUCKET = 'b';

async function walked(store: ListingFakeStore, manifest: Partial<SnapshotManifest>): Promise<SnapshotFileEntry[]> {
  const files: SnapshotFileEntry[] = [];
  for await (const file of walkSnapshotFiles(store, BUCKET, manifest as SnapshotManifest, { concurrency: 2 })) files.push(file);
  return files;
}

/** A tree with every class of entry: nested and shared directories, odd names, a submodule. */
function sampleTree(store: ListingFakeStore) {
  const shared = store.tree([fileEntry('same.txt', blobId('same'))]);
  const deep = store.tree([fileEntry('leaf.c', blobId('leaf'), 7, '100755')]);
  const src = store.tree([dirEntry('deep', deep), fileEntry('main.c', blobId('main'), 3)]);
  const root = store.tree([
    fileEntry(Buffer.from([0x66, 0xff]), blobId('ff')),
    fileEntry('README.md', blobId('readme'), 12),
    dirEntry('a', shared),
    dirEntry('b', shared),
    fileEntry('link', blobId('link'), 4, '120000'),
    { nameBytes: Buffer.from('module'), type: 'commit', mode: '160000', id: blobId('module') },
    dirEntry('src', src),
  ]);
  return { root, shared, deep, src };
}

describe(walkSnapshotFiles.name, () => {
  it('walks a v4 tree in git order (ls-tree -r), with exact paths, keys under objects/ and no submodules', async () => {
    const store = new ListingFakeStore();
    const { root } = sampleTree(store);
    const files = await walked(store, { version: 4, tree: root });
    expect(files.map((f) => [f.path, f.pathBase64, f.key, f.size, f.mode, f.gitSha, f.mappedBecause])).toEqual([
      ['f\ufffd', Buffer.from([0x66, 0xff]).toString('base64'), objectKey(blobId('ff')), 1, '100644', blobId('ff'), MappedReason.NOT_UTF8],
      ['README.md', undefined, objectKey(blobId('readme')), 12, '100644', blobId('readme'), undefined],
      ['a/same.txt', undefined, objectKey(blobId('same')), 1, '100644', blobId('same'), undefined],
      ['b/same.txt', undefined, objectKey(blobId('same')), 1, '100644', blobId('same'), undefined],
      ['link', undefined, objectKey(blobId('link')), 4, '120000', blobId('link'), undefined],
      ['src/deep/leaf.c', undefined, objectKey(blobId('leaf')), 7, '100755', blobId('leaf'), undefined],
      ['src/main.c', undefined, objectKey(blobId('main')), 3, '100644', blobId('main'), undefined],
    ]);
    expect(files.every((f) => f.sha256 === undefined)).toBe(true);
  });

  it('yields the files of a v2/v3 manifest as they are', async () => {
    const files: SnapshotFileEntry[] = [
      { path: 'a', key: 'snapshots/x/files/a', size: 1, mode: '100644', gitSha: blobId('a'), sha256: 's'.repeat(64) },
      {
        path: 'b',
        key: objectKey(blobId('b')),
        mappedBecause: MappedReason.DUPLICATE,
        size: 2,
        mode: '100755',
        gitSha: blobId('b'),
        sha256: 't'.repeat(64),
      },
    ];
    const store = new ListingFakeStore();
    expect(await walked(store, { version: 3, files })).toEqual(files);
    expect(await walked(store, { version: 2, files })).toEqual(files);
    expect(store.reads).toEqual([]);
  });

  it('walks nothing for a v4 snapshot without a commit', async () => {
    expect(await walked(new ListingFakeStore(), { version: 4, tree: null })).toEqual([]);
  });

  it('walks a tree nested thousands deep without exhausting the call stack', async () => {
    const store = new ListingFakeStore();
    let tree = store.tree([fileEntry('leaf', blobId('deep'))]);
    for (let i = 0; i < 3000; i++) tree = store.tree([dirEntry(`d${i}`, tree)]);
    const files = await walked(store, { version: 4, tree });
    expect(files).toHaveLength(1);
    expect(files[0]!.path.split('/')).toHaveLength(3001);
  });

  it('fails with NOT_FOUND when a listing is missing', async () => {
    const store = new ListingFakeStore();
    const root = store.tree([dirEntry('gone', blobId('gone-tree'))]);
    await expect(walked(store, { version: 4, tree: root })).rejects.toMatchObject({ code: 'STORAGE_NOT_FOUND' });
  });
});

describe(lookupSnapshotPath.name, () => {
  it('reads only the listings on the path', async () => {
    const store = new ListingFakeStore();
    const { root, src, deep } = sampleTree(store);
    const listings = bucketListings(store, BUCKET);
    const dir = await lookupSnapshotPath(listings, root, Buffer.from('src/deep'));
    expect(dir).toMatchObject({ kind: 'dir', treeId: deep });
    expect(store.reads).toEqual([root, src, deep].map(treeListingKey));
    expect(await lookupSnapshotPath(listings, root, Buffer.from('src/main.c'))).toEqual({
      kind: 'file',
      file: { path: 'src/main.c', key: objectKey(blobId('main')), size: 3, mode: '100644', gitSha: blobId('main') },
    });
  });

  it.each([
    ['a missing name', 'nope'],
    ['a path through a file', 'README.md/x'],
    ['a submodule', 'module'],
    ['a name below a submodule', 'module/x'],
  ])('finds nothing at %s', async (_case, path) => {
    const store = new ListingFakeStore();
    const { root } = sampleTree(store);
    expect(await lookupSnapshotPath(bucketListings(store, BUCKET), root, Buffer.from(path))).toBeUndefined();
  });

  it('finds non-UTF-8 names by their bytes, and an empty root for a snapshot without a commit', async () => {
    const store = new ListingFakeStore();
    const { root } = sampleTree(store);
    expect(await lookupSnapshotPath(bucketListings(store, BUCKET), root, Buffer.from([0x66, 0xff]))).toMatchObject({ kind: 'file' });
    expect(await lookupSnapshotPath(bucketListings(store, BUCKET), null, Buffer.alloc(0))).toEqual({
      kind: 'dir',
      treeId: null,
      entries: [],
    });
    expect(await lookupSnapshotPath(bucketListings(store, BUCKET), null, Buffer.from('a'))).toBeUndefined();
  });
});

describe(onceEach.name, () => {
  it('reads each listing once, and again after a failure', async () => {
    const store = new ListingFakeStore();
    const { root } = sampleTree(store);
    const sut = onceEach(bucketListings(store, BUCKET));
    await Promise.all([sut(root), sut(root)]);
    await expect(sut(blobId('missing'))).rejects.toBeDefined();
    await expect(sut(blobId('missing'))).rejects.toBeDefined();
    expect(store.reads).toEqual([treeListingKey(root), treeListingKey(blobId('missing')), treeListingKey(blobId('missing'))]);
  });
});

describe(referencedObjectKeys.name, () => {
  it('names every blob and every listing of a v4 snapshot, each distinct tree read once', async () => {
    const store = new ListingFakeStore();
    const { root, shared, src, deep } = sampleTree(store);
    const manifest = store.manifest('snapshots/one/', { version: 4, tree: root, archiveId: 'one' });
    const keys = await referencedObjectKeys(store, BUCKET, manifest, 'snapshots/one/');
    expect([...keys.keys()].sort()).toEqual(
      [
        ...['ff', 'readme', 'same', 'link', 'leaf', 'main'].map((seed) => objectKey(blobId(seed))),
        ...[root, shared, src, deep].map(treeListingKey),
      ].sort(),
    );
    expect(store.reads.filter((key) => key === treeListingKey(shared))).toHaveLength(1);
  });

  it("names a v2/v3 snapshot's file keys, and an unchanged visit's content", async () => {
    const store = new ListingFakeStore();
    const files = [
      { path: 'a', key: 'snapshots/old/files/a', size: 1, mode: '100644', gitSha: blobId('a'), sha256: 's' },
      { path: 'b', key: objectKey(blobId('b')), size: 1, mode: '100644', gitSha: blobId('b'), sha256: 's' },
    ];
    store.manifest('snapshots/old/', { version: 3, files, archiveId: 'old' });
    const unchanged = store.manifest('snapshots/again/', {
      version: 4,
      tree: null,
      archiveId: 'again',
      contentFrom: { archiveId: 'old', prefix: 'snapshots/old/' },
    });
    expect(await referencedObjectKeys(store, BUCKET, unchanged, 'snapshots/again/')).toEqual(new Map(files.map((f) => [f.key, f.size])));
  });

  it('names nothing for a snapshot without a commit', async () => {
    const store = new ListingFakeStore();
    const manifest = store.manifest('snapshots/empty/', { version: 4, tree: null, archiveId: 'e' });
    expect(await referencedObjectKeys(store, BUCKET, manifest, 'snapshots/empty/')).toEqual(new Map());
  });
});

import { bucketListings } from './snapshot-files';
import { decodeTreeListing, gitTreeIdOf, type TreeListingEntry, treeListingKey } from './tree-listing';
import { blobId, dirEntry, fileEntry, ListingFakeStore } from './tree-listing.fake-store';
import { type CommitTrees, type ListingCounts, storedBefore, treeFiles, writeTreeListings } from './tree-listings.store';

/** Commit trees as git would give them: ids computed from the entries, bottom-up. */
class TreeBuilder {
  readonly trees = new Map<string, TreeListingEntry[]>();

  tree(entries: TreeListingEntry[]): string {
    const id = gitTreeIdOf(entries);
    this.trees.set(id, entries);
    return id;
  }

  commit(root: string): CommitTrees {
    return { root, trees: this.trees };
  }
}

/** A repository of `modules` directories of `files` files each; `changed` names one file whose bytes differ. */
function repository(modules: number, files: number, changed?: string) {
  const git = new TreeBuilder();
  const dirs = Array.from({ length: modules }, (_, m) => {
    const leaves = Array.from({ length: files }, (_, f) => {
      const name = `file-${f}.txt`;
      return fileEntry(name, blobId(`${m}/${name}${changed === `src/module-${m}/${name}` ? '!' : ''}`), 10 + f);
    });
    return dirEntry(`module-${m}`, git.tree(leaves));
  });
  const src = git.tree(dirs);
  const root = git.tree([fileEntry('README.md', blobId('readme'), 5), dirEntry('src', src)]);
  return git.commit(root);
}

const counts = (): ListingCounts => ({ written: 0, writtenBytes: 0, present: 0, known: 0 });

async function write(store: ListingFakeStore, trees: CommitTrees, stored: ReadonlySet<string> = new Set(), concurrency = 3) {
  const tally = counts();
  await writeTreeListings(store, 'b', trees, stored, { concurrency, stopped: () => false, counts: tally });
  return tally;
}

describe(writeTreeListings.name, () => {
  it('writes every listing, each after all the listings below it', async () => {
    const store = new ListingFakeStore();
    const trees = repository(4, 3);
    const tally = await write(store, trees);
    expect(tally).toMatchObject({ written: trees.trees.size, present: 0, known: 0 });
    const order = store.puts;
    for (const [id, entries] of trees.trees) {
      const at = order.indexOf(treeListingKey(id));
      expect(decodeTreeListing(store.objects.get(treeListingKey(id))!, id)).toEqual(entries);
      for (const sub of entries.filter((e) => e.type === 'tree')) expect(order.indexOf(treeListingKey(sub.id))).toBeLessThan(at);
    }
  });

  it('writes nothing it is told is stored, and does not rewrite one that exists', async () => {
    const store = new ListingFakeStore();
    const before = repository(4, 3);
    await write(store, before);
    const after = repository(4, 3, 'src/module-2/file-1.txt');
    const stored = new Set([...before.trees.keys()].filter((id) => after.trees.has(id)));
    store.puts.length = 0;
    const tally = await write(store, after, stored);
    // module-2, src and the root changed: three listings, nothing else asked for.
    expect(tally).toMatchObject({ written: 3, present: 0, known: stored.size });
    expect(store.puts).toHaveLength(3);
    store.puts.length = 0;
    expect(await write(store, after)).toMatchObject({ written: 0, present: after.trees.size });
  });

  it('stops starting writes once stopped', async () => {
    const store = new ListingFakeStore();
    const tally = counts();
    await writeTreeListings(store, 'b', repository(4, 3), new Set(), {
      concurrency: 1,
      stopped: () => store.puts.length >= 2,
      counts: tally,
    });
    expect(store.puts).toHaveLength(2);
  });
});

describe(storedBefore.name, () => {
  it('after one changed file, reads only the previous listings from the root down to it', async () => {
    const store = new ListingFakeStore();
    const before = repository(20, 10);
    await write(store, before);
    const after = repository(20, 10, 'src/module-7/file-3.txt');
    store.reads.length = 0;

    const sut = await storedBefore(bucketListings(store, 'b'), before.root, after);

    expect(store.reads).toHaveLength(3);
    const unchanged = [...after.trees.keys()].filter((id) => before.trees.has(id));
    expect(unchanged).toHaveLength(after.trees.size - 3);
    for (const id of unchanged) expect(sut.trees.has(id)).toBe(true);
    expect(sut.trees.has(after.root)).toBe(false);
    // Every blob of the previous snapshot is known: 200 files and the README.
    expect(sut.blobs.size).toBe(201);
    expect(sut.blobs.has(blobId('7/file-3.txt!'))).toBe(false);
  });

  it('reads nothing when the tree did not change', async () => {
    const store = new ListingFakeStore();
    const trees = repository(3, 2);
    const sut = await storedBefore(bucketListings(store, 'b'), trees.root, trees);
    expect(store.reads).toEqual([]);
    expect(sut.trees).toEqual(new Set(trees.trees.keys()));
  });
});

describe(treeFiles.name, () => {
  it("lists files in git's order with exact paths, leaving submodules out", () => {
    const git = new TreeBuilder();
    const sub = git.tree([fileEntry(Buffer.from([0xff]), blobId('ff'))]);
    const root = git.tree([
      fileEntry('a', blobId('a')),
      dirEntry('d', sub),
      { nameBytes: Buffer.from('m'), type: 'commit', mode: '160000', id: blobId('m') },
      fileEntry('z', blobId('z'), 3, '100755'),
    ]);
    expect(treeFiles(git.commit(root))).toEqual([
      { pathBytes: Buffer.from('a'), size: 1, mode: '100644', sha: blobId('a') },
      { pathBytes: Buffer.from([0x64, 0x2f, 0xff]), size: 1, mode: '100644', sha: blobId('ff') },
      { pathBytes: Buffer.from('z'), size: 3, mode: '100755', sha: blobId('z') },
    ]);
  });

  it('lists a tree nested thousands deep', () => {
    const git = new TreeBuilder();
    let tree = git.tree([fileEntry('leaf', blobId('leaf'))]);
    for (let i = 0; i < 5000; i++) tree = git.tree([dirEntry('d', tree)]);
    expect(treeFiles(git.commit(tree))).toHaveLength(1);
  });
});

import { Readable } from 'node:stream';
import { chainOverrideFolder, readBundleChain, type SnapshotBundleLink } from './bundle-chain';
import { StorageError, StorageErrorCode } from './storage.error';

const link = (archiveId: string, key: string, kind: 'full' | 'incremental' = 'full'): SnapshotBundleLink => ({
  archiveId,
  key,
  kind,
  size: 1,
  sha256: '0'.repeat(64),
});

describe(readBundleChain.name, () => {
  const A = 'snapshots/a/';
  const U = 'snapshots/u/';
  let objects: Map<string, string>;
  const sut = readBundleChain;
  const store = {
    getObject: async (_b: string, key: string) => {
      const body = objects.get(key);
      if (body === undefined) throw new StorageError(StorageErrorCode.NOT_FOUND, key);
      return Readable.from([Buffer.from(body)]);
    },
    listObjects: async function* (_b: string, prefix: string) {
      for (const name of [...objects.keys()].sort()) if (name.startsWith(prefix)) yield { name };
    },
  };
  const own = [link('z', 'snapshots/z/repo.bundle'), link('a', `${A}increment.bundle`, 'incremental')];
  const manifestA = { archiveId: 'a', bundle: null, bundleChain: own };
  const override = (prefix: string, at: string, chain: SnapshotBundleLink[]) =>
    objects.set(
      `${chainOverrideFolder(prefix, new Date(at))}chain.json`,
      JSON.stringify({ bundleChain: chain, prunedBy: 'r', writtenAt: at }),
    );

  beforeEach(() => {
    objects = new Map([[`${A}manifest.json`, JSON.stringify(manifestA)]]);
  });

  it('reads the manifest’s chain when no prune rechained the snapshot', async () => {
    expect(await sut(store, 'b', A, manifestA)).toEqual(own);
  });

  it('prefers the newest chain override under the snapshot’s prefix, whatever order they were listed in', async () => {
    override(A, '2026-11-29T00:00:00Z', [link('a', `${A}chains/old/checkpoint.bundle`)]);
    override(A, '2026-11-30T10:00:00.500Z', [link('a', `${A}chains/new/checkpoint.bundle`)]);
    override(A, '2026-11-30T09:59:59.999Z', [link('a', `${A}chains/mid/checkpoint.bundle`)]);
    expect((await sut(store, 'b', A, manifestA)).map((l) => l.key)).toEqual([`${A}chains/new/checkpoint.bundle`]);
  });

  it('ignores overrides of other snapshots and objects that are not chain overrides', async () => {
    override('snapshots/a-other/', '2026-11-30T00:00:00Z', [link('x', 'x')]);
    objects.set(`${A}chains/2026/checkpoint.bundle`, 'bytes');
    expect(await sut(store, 'b', A, manifestA)).toEqual(own);
  });

  it('follows an unchanged visit to its content’s override', async () => {
    override(A, '2026-11-30T00:00:00Z', [link('a', `${A}chains/x/checkpoint.bundle`)]);
    override(U, '2026-11-30T00:00:00Z', [link('u', 'never read')]);
    const unchanged = { archiveId: 'u', bundle: null, contentFrom: { archiveId: 'a', prefix: A } };
    expect((await sut(store, 'b', U, unchanged)).map((l) => l.key)).toEqual([`${A}chains/x/checkpoint.bundle`]);
  });
});

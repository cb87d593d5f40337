import { Logger } from '@nestjs/common';
import { Readable } from 'node:stream';
import type { AppConfig } from '@archiver/config';
import type { ArchiveRecord, ArchiveRepository, RetentionRepository, TrackedRepositoryRepository } from '@archiver/database';
import { foldRefChanges } from '@archiver/git';
import { RetryLaterError } from '@archiver/queue';
import { ObjectStoreRepository, type SnapshotBundleLink, StorageError, StorageErrorCode } from '@archiver/storage';
import { archiveRecord } from '@archiver/testing';
import type { ChainRebuilder } from './chain-rebuilder';
import { RepositoryPruner } from './repository-pruner';

const REPO = '00000000-0000-4000-9000-000000000001';
const BUCKET = 'b';
const prefixOf = (id: string) => `snapshots/${id}/`;
const link = (id: string, kind: 'full' | 'incremental'): SnapshotBundleLink => ({
  archiveId: id,
  kind,
  key: `${prefixOf(id)}${kind === 'full' ? 'repo' : 'increment'}.bundle`,
  size: 10,
  sha256: '0'.repeat(64),
});

describe(RepositoryPruner.name, () => {
  let objects: Map<string, Buffer>;
  let rows: ArchiveRecord[];
  let calls: string[];
  let policy: { retentionKeepLast: number | null };
  let liveVisits: number;
  let leaseFree: boolean;
  let retention: Record<'takeLease' | 'renewLease' | 'releaseLease' | 'countLiveVisits' | 'recordPrune' | 'completedSnapshots', jest.Mock>;
  let rebuilder: { rebuild: jest.Mock };
  let sut: RepositoryPruner;

  /** Three changed visits a, b, c in one chain, c the newest; b's file is only b's. */
  const seed = () => {
    const chain: SnapshotBundleLink[] = [];
    for (const [i, id] of ['a', 'b', 'c'].entries()) {
      chain.push(link(id, i === 0 ? 'full' : 'incremental'));
      const files = [
        { path: 'shared', key: 'objects/sh/ared', size: 1 },
        { path: id, key: `objects/${id}/only`, size: 2 },
      ];
      objects.set(`${prefixOf(id)}manifest.json`, Buffer.from(JSON.stringify({ archiveId: id, bundleChain: [...chain], files, refs: [] })));
      objects.set(chain[i]!.key, Buffer.alloc(10));
      for (const file of files) objects.set(file.key, Buffer.alloc(file.size));
      rows.push(
        archiveRecord({
          id,
          status: 'completed',
          bucket: BUCKET,
          prefix: prefixOf(id),
          repositoryId: REPO,
          finishedAt: new Date(Date.UTC(2026, 10, 1 + i)),
        }),
      );
    }
  };

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(() => {
    objects = new Map();
    rows = [];
    calls = [];
    policy = { retentionKeepLast: 2 };
    liveVisits = 0;
    leaseFree = true;
    seed();
    const store = {
      getObject: jest.fn(async (_b: string, key: string) => {
        const body = objects.get(key);
        if (!body) throw new StorageError(StorageErrorCode.NOT_FOUND, key);
        return Readable.from([body]);
      }),
      listObjects: jest.fn(async function* (_b: string, prefix: string) {
        for (const [name, body] of [...objects].sort()) if (name.startsWith(prefix)) yield { name, size: body.length };
      }),
      removeObject: jest.fn(async (_b: string, key: string) => {
        calls.push(`remove ${key}`);
        objects.delete(key);
      }),
      removeObjects: jest.fn(async (_b: string, keys: string[]) => {
        calls.push(`gc ${keys.join(',')}`);
        return keys.filter((key) => objects.delete(key)).length;
      }),
      removePrefix: jest.fn(async (_b: string, prefix: string) => {
        calls.push(`remove prefix ${prefix}`);
        for (const key of [...objects.keys()]) if (key.startsWith(prefix)) objects.delete(key);
        return 0;
      }),
      removeIncompleteUploads: jest.fn(async () => 0),
    };
    const withSnapshotRemoval = Object.assign(store, {
      removeSnapshotPrefix: ObjectStoreRepository.prototype.removeSnapshotPrefix.bind(store as unknown as ObjectStoreRepository),
    });
    retention = {
      takeLease: jest.fn(async () => {
        calls.push('lease');
        return leaseFree;
      }),
      renewLease: jest.fn(async () => true),
      releaseLease: jest.fn(async () => void calls.push('release')),
      countLiveVisits: jest.fn(async () => liveVisits),
      recordPrune: jest.fn(async () => void calls.push('record')),
      completedSnapshots: jest.fn(async () => [...rows]),
    };
    const archives = {
      deleteVisit: jest.fn(async (id: string, fold: unknown) => {
        // The chain of ref changes is kept whole with libs/git's fold (checked in ref-changes.spec).
        expect(fold).toBe(foldRefChanges);
        calls.push(`delete row ${id}`);
        rows = rows.filter((r) => r.id !== id);
      }),
    };
    const repositories = {
      findById: jest.fn(async () => ({
        id: REPO,
        retentionKeepLast: policy.retentionKeepLast,
        retentionKeepDaily: null,
        retentionKeepWeekly: null,
        retentionKeepMonthly: null,
      })),
    };
    rebuilder = {
      rebuild: jest.fn(async (group: { members: { id: string }[] }) => void calls.push(`rechain ${group.members.map((m) => m.id)}`)),
    };
    sut = new RepositoryPruner(
      { worker: { leaseMs: 60_000 } } as AppConfig,
      repositories as unknown as TrackedRepositoryRepository,
      retention as unknown as RetentionRepository,
      archives as unknown as ArchiveRepository,
      withSnapshotRemoval as unknown as ObjectStoreRepository,
      rebuilder as unknown as ChainRebuilder,
    );
  });

  it('rechains kept snapshots before removing anything, removes manifest, prefix then row, then unused blobs', async () => {
    const freed = objects.get(`${prefixOf('a')}manifest.json`)!.length + 10 + 2;
    await sut.prune(REPO, new AbortController().signal);
    expect(calls).toEqual([
      'lease',
      'rechain b,c',
      `remove ${prefixOf('a')}manifest.json`,
      `remove prefix ${prefixOf('a')}`,
      'delete row a',
      'gc objects/a/only',
      'record',
    ]);
    expect(objects.has('objects/sh/ared')).toBe(true);
    expect(retention.recordPrune).toHaveBeenCalledWith(
      REPO,
      expect.any(String),
      { removed: 1, kept: 2, bytesFreed: freed, rechained: 2 },
      expect.any(Date),
    );
  });

  it('backs off while a visit of the repository runs, giving the lease back and touching nothing', async () => {
    liveVisits = 1;
    await expect(sut.prune(REPO, new AbortController().signal)).rejects.toBeInstanceOf(RetryLaterError);
    expect(calls).toEqual(['lease', 'release']);
  });

  it('backs off while another prune holds the lease', async () => {
    leaseFree = false;
    await expect(sut.prune(REPO, new AbortController().signal)).rejects.toBeInstanceOf(RetryLaterError);
    expect(calls).toEqual(['lease']);
  });

  it('removes nothing without a policy, and records that', async () => {
    policy.retentionKeepLast = null;
    await sut.prune(REPO, new AbortController().signal);
    expect(calls).toEqual(['lease', 'record']);
  });

  it('finishes removing a snapshot whose manifest an interrupted prune already removed', async () => {
    objects.delete(`${prefixOf('a')}manifest.json`);
    await sut.prune(REPO, new AbortController().signal);
    expect(calls).toContain('delete row a');
    expect(rows.map((r) => r.id)).toEqual(['b', 'c']);
  });
});

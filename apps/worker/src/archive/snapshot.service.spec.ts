import { Logger } from '@nestjs/common';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { AppConfig } from '@archiver/config';
import {
  ArchiveRecord,
  ArchiveRepository,
  DatabaseError,
  DatabaseErrorCode,
  TrackedRepositoryRepository,
  VisitOutcome,
} from '@archiver/database';
import { GitError, GitErrorCode, refsHash, RemoteRefs, RepositoryReader, SafeCloner } from '@archiver/git';
import { MetricsRegistry } from '@archiver/metrics';
import { JobContext, PermanentJobError, RetryLaterError } from '@archiver/queue';
import { ObjectStoreRepository, SnapshotManifest, StorageError, StorageErrorCode } from '@archiver/storage';
import { archiveRecord } from '@archiver/testing';
import { MirrorCache } from '../clone/mirror-cache';
import type { VisitCredentials } from '../clone/visit-credentials';
import { WorkDirs } from '../clone/work-dir';
import { WorkerMetrics } from '../metrics/worker-metrics';
import { LfsArchiver } from '../lfs/lfs-archiver';
import { VisitNotifier } from '../webhooks/visit-notifier';
import type { HostPoliteness } from '../politeness/host-politeness';
import { SnapshotService } from './snapshot.service';

type Mocked<T> = { [K in keyof T]: jest.Mock };

const ID = '6f1c8a5e-8d5a-4d1e-9a43-0b7c1f2e3d4a';
// Public repositories: no credential to hand to git.
const noCredentials = { forVisit: async () => undefined } as unknown as VisitCredentials;

/** A running archive of this test's repository, as the repository returns it. */
function row(overrides: Partial<ArchiveRecord> = {}): ArchiveRecord {
  return archiveRecord({
    id: ID,
    status: 'running',
    createdAt: new Date('2026-01-01T00:00:00Z'),
    injectedAt: new Date('2026-01-01T00:00:01Z'),
    startedAt: new Date('2026-01-01T00:00:02Z'),
    updatedAt: new Date('2026-01-01T00:00:02Z'),
    attempts: 1,
    repositoryId: '00000000-0000-4000-9000-000000000001',
    ...overrides,
  });
}

/** A bucket in memory: what the writer stored, and what it removed again. */
function memoryStore() {
  const objects = new Map<string, Buffer>();
  const drain = async (stream: Readable) => {
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
    return Buffer.concat(chunks);
  };
  const store = {
    ensureBucket: jest.fn(async () => undefined),
    putBuffer: jest.fn(async (_b: string, key: string, body: Buffer) => void objects.set(key, body)),
    putBufferIfAbsent: jest.fn(async (_b: string, key: string, body: Buffer) => !objects.has(key) && !!objects.set(key, body)),
    putStream: jest.fn(async (_b: string, key: string, stream: Readable) => void objects.set(key, await drain(stream))),
    removePrefix: jest.fn(async (_b: string, prefix: string) => {
      for (const key of [...objects.keys()]) if (key.startsWith(prefix)) objects.delete(key);
    }),
    removeObject: jest.fn(async (_b: string, key: string) => void objects.delete(key)),
    removeObjects: jest.fn(async (_b: string, keys: string[]) => keys.filter((key) => objects.delete(key)).length),
    statObject: jest.fn(async (bucket: string, key: string) => {
      const body = objects.get(key);
      if (!body) throw new StorageError(StorageErrorCode.NOT_FOUND, `no ${bucket}/${key}`);
      return { size: body.length, etag: 'e', lastModified: new Date(), contentType: undefined };
    }),
    copyObject: jest.fn(async (_b: string, from: string, to: string) => void objects.set(to, objects.get(from)!)),
    listObjects: jest.fn(async function* (_b: string, prefix: string) {
      for (const [name, body] of [...objects].sort()) if (name.startsWith(prefix)) yield { name, size: body.length };
    }),
    removeIncompleteUploads: jest.fn(async () => undefined),
    getObject: jest.fn(async (bucket: string, key: string) => {
      const body = objects.get(key);
      if (!body) throw new StorageError(StorageErrorCode.NOT_FOUND, `no ${bucket}/${key}`);
      return Readable.from([body]);
    }),
  };
  // The real composition of the two primitives above (and its missing-bucket rule).
  const withSnapshotRemoval = Object.assign(store, {
    removeSnapshotPrefix: ObjectStoreRepository.prototype.removeSnapshotPrefix.bind(store as unknown as ObjectStoreRepository),
  });
  return { store: withSnapshotRemoval, objects };
}

/** These fixtures hold no LFS pointers; LFS has its own integration test (test/integration/lfs.int-spec.ts). */
const noLfs = { archive: async () => undefined } as unknown as LfsArchiver;
describe(SnapshotService.name, () => {
  // The service logs every outcome; the assertions below say what matters.
  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(['log', 'warn', 'error']));
  const base = mkdtempSync(path.join(os.tmpdir(), 'snapshot-service-'));
  const source = path.join(base, 'source.git');
  const config = {
    clone: { timeoutMs: 60_000, maxBytes: 1e9, workDir: path.join(base, 'work') },
    worker: { uploadConcurrency: 2, leaseMs: 60_000, maxRuns: 5 },
    schedule: { tickMs: 1000, minIntervalSeconds: 60, maxIntervalSeconds: 3600, disableAfterFailures: 3 },
    bundles: { maxChainDepth: 3, maxChainShare: 100 },
  } as AppConfig;
  let repositories: { recordVisitOutcome: jest.Mock };
  let notifier: { visitSettled: jest.Mock };
  let archives: Mocked<
    Pick<
      ArchiveRepository,
      | 'claimRun'
      | 'describeClaim'
      | 'renewRun'
      | 'releaseRun'
      | 'setSnapshotLocation'
      | 'markCompleted'
      | 'markRunFailed'
      | 'recordAttemptError'
      | 'findPreviousCompletedVisit'
      | 'findById'
      | 'requeueRun'
    >
  >;
  let politeness: { enter: jest.Mock; backOff: jest.Mock };
  let upstreamSlot: { release: jest.Mock };
  let cloner: { clone: jest.Mock; listRemoteRefs: jest.Mock };
  let memory: ReturnType<typeof memoryStore>;
  let sut: SnapshotService;
  let registry: MetricsRegistry;
  let metrics: WorkerMetrics;
  // With no room for mirrors every visit clones, as the cases below expect (mirror-cache.spec.ts covers the cache).
  const mirrorsOff = (c: AppConfig) =>
    new MirrorCache(
      { ...c, worker: { ...c.worker, mirrorCacheBytes: 0 } },
      cloner as unknown as SafeCloner,
      archives as unknown as ArchiveRepository,
      memory.store as unknown as ObjectStoreRepository,
    );
  const context = (attempt = 1, maxAttempts = 4): JobContext => ({
    attempt,
    maxAttempts,
    lastAttempt: attempt >= maxAttempts,
    signal: new AbortController().signal,
  });

  beforeAll(() => {
    const work = path.join(base, 'src');
    const git = (...args: string[]) =>
      execFileSync('git', args, {
        cwd: work,
        env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' },
      });
    execFileSync('git', ['init', '-q', '-b', 'main', work]);
    execFileSync('sh', ['-c', 'echo hello > a.txt'], { cwd: work });
    git('add', '.');
    git('commit', '-qm', 'one');
    execFileSync('git', ['clone', '-q', '--mirror', work, source]);
  });
  let sourceRefsHash: string;
  /** What a probe of the source says: the same refs, HEAD on main. */
  let remote: RemoteRefs;
  beforeAll(async () => {
    const refs = await new RepositoryReader(source).refs();
    sourceRefsHash = refsHash(refs);
    remote = {
      refs,
      head: { sha: refs[0].sha, target: { name: 'refs/heads/main', nameBytes: Buffer.from('refs/heads/main') } },
      refsHash: sourceRefsHash,
      fetchedUrl: '',
      normalizedUrl: '',
    };
  });
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  beforeEach(() => {
    archives = {
      claimRun: jest.fn(async (_id: string, runId: string) => row({ runId })),
      describeClaim: jest.fn(),
      renewRun: jest.fn(async () => true),
      releaseRun: jest.fn(async () => undefined),
      setSnapshotLocation: jest.fn(async (_id: string, runId: string, bucket: string, prefix: string) => row({ runId, bucket, prefix })),
      markCompleted: jest.fn(async () => row({ status: 'completed' })),
      markRunFailed: jest.fn(async () => row({ status: 'failed' })),
      recordAttemptError: jest.fn(async () => row()),
      findPreviousCompletedVisit: jest.fn(async () => null),
      findById: jest.fn(async () => row({ status: 'queued' })),
      requeueRun: jest.fn(async () => true),
    };
    upstreamSlot = { release: jest.fn(async () => undefined) };
    politeness = {
      enter: jest.fn(async () => upstreamSlot),
      backOff: jest.fn(async (_url: string, refusal: GitError) => new RetryLaterError(refusal.message, 3_000)),
    };
    // The "clone" is a copy of a real bare repository, so reading and bundling are real.
    cloner = {
      clone: jest.fn(async ({ dir }: { dir: string }) => {
        execFileSync('cp', ['-r', source, dir]);
        return { gitDir: dir, fetchedUrl: '', normalizedUrl: '', sizeBytes: 1 };
      }),
      listRemoteRefs: jest.fn(async () => remote),
    };
    memory = memoryStore();
    registry = new MetricsRegistry('worker');
    metrics = new WorkerMetrics(registry);
    repositories = { recordVisitOutcome: jest.fn(async () => null) };
    notifier = { visitSettled: jest.fn(async () => undefined) };
    sut = new SnapshotService(
      config,
      archives as unknown as ArchiveRepository,
      memory.store as unknown as ObjectStoreRepository,
      cloner as unknown as SafeCloner,
      new WorkDirs(config),
      repositories as unknown as TrackedRepositoryRepository,
      mirrorsOff(config),
      metrics,
      noCredentials,
      notifier as unknown as VisitNotifier,
      noLfs,
      politeness as unknown as HostPoliteness,
    );
  });

  it('completes a claimed archive: files, bundle, then the manifest, recorded by the run that holds it', async () => {
    await sut.archive(ID, context());
    const runId = archives.claimRun.mock.calls[0][1] as string;
    expect(archives.markCompleted).toHaveBeenCalledWith(
      ID,
      runId,
      expect.objectContaining({ fileCount: 1, refCount: 1 }),
      expect.any(Date),
      {
        outcome: 'changed',
        refsHash: sourceRefsHash,
        // The first snapshot: every ref created, counted from nothing.
        changes: {
          sinceId: null,
          refs: [{ nameBytes: Buffer.from('refs/heads/main'), kind: 'created', oldSha: null, newSha: remote.refs[0].sha }],
          summary: { created: 1, deleted: 0, fastForward: 0, nonFastForward: 0, tagMoved: 0 },
        },
      },
    );
    const keys = [...memory.objects.keys()];
    expect(keys.some((k) => k.endsWith('/manifest.json'))).toBe(true);
    // Bytes once per repository, and the console's view of the newest snapshot by path.
    expect(keys.filter((k) => k.startsWith('objects/'))).toHaveLength(1);
    expect(memory.objects.get('latest/files/a.txt')).toBeDefined();
    // Counted for Prometheus: one changed visit, one file object uploaded, one full clone.
    const exposition = (await registry.scrape()).body;
    expect(exposition).toContain('archiver_visits_total{outcome="changed",code="",app="worker"} 1');
    expect(exposition).toContain('archiver_uploaded_objects_total{app="worker"} 1');
    expect(exposition).toMatch(/archiver_clone_duration_seconds_count\{app="worker",via="cloned"\} 1/);
    expect(keys).toContain('latest/snapshot.json');
    // Under snapshots/, the prefix is this run's own.
    const snapshotKeys = keys.filter((k) => k.startsWith('snapshots/'));
    expect(snapshotKeys.every((k) => k.includes(`-${ID.slice(0, 8)}-${runId.slice(0, 8)}/`))).toBe(true);
    expect(archives.releaseRun).toHaveBeenCalledWith(ID, runId);
  });

  it('takes the manifest back when the archive turns out not to be this run’s at completion', async () => {
    archives.markCompleted.mockResolvedValue(null);
    await expect(sut.archive(ID, context())).rejects.toBeInstanceOf(RetryLaterError);
    // Blobs (objects/) and listings (trees/) stay: another run may rely on them; nothing looks like a snapshot, latest/ untouched.
    expect([...memory.objects.keys()].filter((k) => !k.startsWith('objects/') && !k.startsWith('trees/'))).toEqual([]);
    expect(archives.markRunFailed).not.toHaveBeenCalled();
  });

  it('keeps the snapshot when it cannot tell whether completion was recorded (the next run cleans up if not)', async () => {
    archives.markCompleted.mockRejectedValue(new DatabaseError(DatabaseErrorCode.Unavailable, 'down'));
    await expect(sut.archive(ID, context())).rejects.toBeInstanceOf(RetryLaterError);
    expect([...memory.objects.keys()].some((k) => k.endsWith('/manifest.json'))).toBe(true);
  });

  it('a new run first removes what the previous run of the archive left', async () => {
    archives.claimRun.mockImplementation(async (_id: string, runId: string) =>
      row({ runId, attempts: 2, bucket: 'b', prefix: 'snapshots/20260101T000000Z-6f1c8a5e-deadbeef/' }),
    );
    memory.objects.set('snapshots/20260101T000000Z-6f1c8a5e-deadbeef/files/a.txt', Buffer.from('old'));
    await sut.archive(ID, context());
    expect([...memory.objects.keys()].some((k) => k.includes('deadbeef'))).toBe(false);
  });

  it('waits, without using an attempt, while another run holds the archive; skips a finished one', async () => {
    archives.claimRun.mockResolvedValue(null);
    archives.describeClaim.mockResolvedValue({ state: 'held', until: new Date(Date.now() + 10_000) });
    const held = sut.archive(ID, context());
    await expect(held).rejects.toBeInstanceOf(RetryLaterError);
    await expect(held).rejects.toMatchObject({ delayMs: expect.any(Number) });
    archives.describeClaim.mockResolvedValue({ state: 'finished' });
    await expect(sut.archive(ID, context())).resolves.toBeUndefined();
    expect(cloner.clone).not.toHaveBeenCalled();
  });

  it('postpones, without using an attempt, while the database is down', async () => {
    archives.claimRun.mockRejectedValue(new DatabaseError(DatabaseErrorCode.Unavailable, 'down'));
    await expect(sut.archive(ID, context())).rejects.toBeInstanceOf(RetryLaterError);
    archives.claimRun.mockImplementation(async (_id: string, runId: string) => row({ runId }));
    archives.markRunFailed.mockRejectedValue(new DatabaseError(DatabaseErrorCode.Unavailable, 'down'));
    cloner.clone.mockRejectedValue(new GitError(GitErrorCode.NOT_FOUND, 'Repository not found'));
    // The failure could not be recorded: run again later rather than lose it.
    await expect(sut.archive(ID, context())).rejects.toBeInstanceOf(RetryLaterError);
  });

  it('says truthfully what happens next: a retry with its attempt count, or the final failure', async () => {
    cloner.clone.mockRejectedValue(new GitError(GitErrorCode.NETWORK, 'Connection reset by the server'));
    await expect(sut.archive(ID, context(1))).rejects.toBeInstanceOf(GitError);
    expect(archives.recordAttemptError.mock.calls[0][3]).toMatch(
      /^Attempt 1 of 4 failed: Connection reset by the server\. Retrying in about 5 s$/,
    );
    await expect(sut.archive(ID, context(4))).rejects.toBeInstanceOf(PermanentJobError);
    expect(archives.markRunFailed.mock.calls[0][2]).toBe('NETWORK');
    expect(archives.markRunFailed.mock.calls[0][3]).toBe('Connection reset by the server (gave up after 4 attempts)');
    cloner.clone.mockRejectedValue(new GitError(GitErrorCode.NOT_FOUND, 'Repository not found'));
    await expect(sut.archive(ID, context(1))).rejects.toBeInstanceOf(PermanentJobError);
    expect(archives.markRunFailed.mock.calls[1][3]).toBe('Repository not found');
    expect((await registry.scrape()).body).toContain('archiver_visits_total{outcome="failed",code="NOT_FOUND",app="worker"} 1');
  });

  it('fails a run that cannot even make its work dir through the same failure path', async () => {
    const broken = new SnapshotService(
      { ...config, clone: { ...config.clone, workDir: path.join(source, 'HEAD', 'work') } } as AppConfig,
      archives as unknown as ArchiveRepository,
      memory.store as unknown as ObjectStoreRepository,
      cloner as unknown as SafeCloner,
      new WorkDirs({ ...config, clone: { ...config.clone, workDir: path.join(source, 'HEAD', 'work') } } as AppConfig),
      repositories as unknown as TrackedRepositoryRepository,
      mirrorsOff(config),
      metrics,
      noCredentials,
      notifier as unknown as VisitNotifier,
      noLfs,
      politeness as unknown as HostPoliteness,
    );
    await expect(broken.archive(ID, context())).rejects.toBeInstanceOf(PermanentJobError);
    expect(archives.markRunFailed).toHaveBeenCalledWith(
      ID,
      expect.any(String),
      'WORK_DIR_FAILED',
      expect.stringMatching(/ENOTDIR/),
      expect.any(Date),
    );
  });

  it('stops when its signal fires (shutdown or lost lock): removes its files, postpones, records nothing', async () => {
    const controller = new AbortController();
    cloner.clone.mockImplementation(async () => {
      controller.abort('the worker is shutting down');
      throw new GitError(GitErrorCode.ABORTED, 'Cloning was aborted');
    });
    await expect(sut.archive(ID, { ...context(), signal: controller.signal })).rejects.toMatchObject({
      name: 'RetryLaterError',
      message: expect.stringMatching(/shutting down/),
    });
    expect(archives.markRunFailed).not.toHaveBeenCalled();
    expect(archives.recordAttemptError).not.toHaveBeenCalled();
  });

  it('gives up on an archive that has used up its runs, removing what its last run left', async () => {
    archives.claimRun.mockImplementation(async (_id: string, runId: string) =>
      row({ runId, attempts: 6, error: 'Attempt 3 of 4 failed: x', bucket: 'b', prefix: 'snapshots/20260101T000000Z-6f1c8a5e-deadbeef/' }),
    );
    memory.objects.set('snapshots/20260101T000000Z-6f1c8a5e-deadbeef/files/a.txt', Buffer.from('old'));
    memory.objects.set('snapshots/20260101T000000Z-6f1c8a5e-deadbeef/manifest.json', Buffer.from('{}'));
    await sut.archive(ID, context());
    expect([...memory.objects.keys()]).toEqual([]);
    expect(memory.store.removeIncompleteUploads).toHaveBeenCalledWith('b', 'snapshots/20260101T000000Z-6f1c8a5e-deadbeef/');
    expect(archives.markRunFailed).toHaveBeenCalledWith(
      ID,
      expect.any(String),
      'RUNS_EXHAUSTED',
      expect.stringMatching(/Gave up after 5 runs.*Attempt 3 of 4 failed: x/),
      expect.any(Date),
    );
    expect(cloner.clone).not.toHaveBeenCalled();
  });

  it('does not give up before what its last run left is removed (object storage down): it runs again later', async () => {
    archives.claimRun.mockImplementation(async (_id: string, runId: string) => row({ runId, attempts: 6, bucket: 'b', prefix: 'p/' }));
    memory.store.removePrefix.mockRejectedValue(new StorageError(StorageErrorCode.UNAVAILABLE, 'MinIO is down'));
    await expect(sut.archive(ID, context())).rejects.toBeInstanceOf(RetryLaterError);
    expect(archives.markRunFailed).not.toHaveBeenCalled();
  });
  describe('a visit whose refs have not moved', () => {
    const BUCKET = 'repo-bucket';
    const PREVIOUS = '11111111-2222-4333-8444-555555555555';
    const PREVIOUS_PREFIX = 'snapshots/20251231T000000Z-11111111-aaaaaaaa/';
    const manifestOf = (key: string) => JSON.parse(memory.objects.get(key)!.toString('utf8')) as SnapshotManifest;
    const ownManifest = () =>
      manifestOf([...memory.objects.keys()].find((k) => k.endsWith('/manifest.json') && !k.startsWith(PREVIOUS_PREFIX))!);

    /** Archives once through the clone path, then files that snapshot as the previous visit. */
    async function previousVisit(overrides: Partial<ArchiveRecord> = {}): Promise<SnapshotManifest> {
      archives.setSnapshotLocation.mockImplementationOnce(async (_id: string, runId: string) =>
        row({ runId, bucket: BUCKET, prefix: PREVIOUS_PREFIX }),
      );
      await sut.archive(ID, context());
      const manifest = manifestOf(`${PREVIOUS_PREFIX}manifest.json`);
      archives.findPreviousCompletedVisit.mockResolvedValue(
        row({
          id: PREVIOUS,
          status: 'completed',
          bucket: BUCKET,
          prefix: PREVIOUS_PREFIX,
          outcome: 'changed',
          refsHash: manifest.refsHash,
          ...overrides,
        }),
      );
      archives.setSnapshotLocation.mockImplementation(async (_id: string, runId: string, _b: string, prefix: string) =>
        row({ runId, bucket: BUCKET, prefix }),
      );
      cloner.clone.mockClear();
      archives.markCompleted.mockClear();
      return manifest;
    }

    it('ends unchanged without cloning: manifest only, its refs by hash and by the snapshot with the content', async () => {
      const before = await previousVisit();
      const keysBefore = memory.objects.size;
      await sut.archive(ID, context());
      expect(cloner.clone).not.toHaveBeenCalled();
      expect(cloner.listRemoteRefs).toHaveBeenCalledWith(
        expect.objectContaining({ deadlineMs: config.clone.timeoutMs, scratchDir: expect.any(String) }),
      );
      expect(memory.objects.size).toBe(keysBefore + 1);
      const manifest = ownManifest();
      expect(manifest).toMatchObject({
        outcome: 'unchanged',
        unchanged: true,
        refsHash: sourceRefsHash,
        contentFrom: { archiveId: ID, prefix: PREVIOUS_PREFIX },
        tree: null,
        bundle: null,
        commit: before.commit,
        fileCount: before.fileCount,
        byteCount: before.byteCount,
        defaultBranch: 'refs/heads/main',
      });
      expect(manifest.refs).toBeUndefined();
      expect(archives.markCompleted).toHaveBeenCalledWith(
        ID,
        expect.any(String),
        { commit: before.commit, refCount: 1, fileCount: 1, byteCount: BigInt(before.byteCount) },
        expect.any(Date),
        { outcome: 'unchanged', refsHash: sourceRefsHash, changes: { sinceId: PREVIOUS, refs: [], summary: expect.any(Object) } },
      );
    });

    it('follows a chain: after an unchanged visit, the next points at the snapshot holding the content', async () => {
      await previousVisit();
      await sut.archive(ID, context());
      const firstUnchanged = ownManifest();
      const unchangedPrefix = [...memory.objects.keys()]
        .find((k) => k.endsWith('/manifest.json') && !k.startsWith(PREVIOUS_PREFIX))!
        .replace('manifest.json', '');
      archives.findPreviousCompletedVisit.mockResolvedValue(
        row({
          id: 'unchanged-one',
          status: 'completed',
          bucket: BUCKET,
          prefix: unchangedPrefix,
          outcome: 'unchanged',
          refsHash: sourceRefsHash,
        }),
      );
      memory.objects.clear();
      memory.objects.set(`${unchangedPrefix}manifest.json`, Buffer.from(JSON.stringify(firstUnchanged)));
      await sut.archive(ID, context());
      expect(cloner.clone).not.toHaveBeenCalled();
      const second = manifestOf([...memory.objects.keys()].find((k) => k.endsWith('/manifest.json') && !k.startsWith(unchangedPrefix))!);
      expect(second.contentFrom).toEqual({ archiveId: ID, prefix: PREVIOUS_PREFIX });
    });

    const cloneAnyway: [string, () => Promise<void>][] = [
      ['there is no previous completed visit', async () => void archives.findPreviousCompletedVisit.mockResolvedValue(null)],
      ['the previous visit predates refs hashes', async () => void (await previousVisit({ refsHash: null }))],
      ['the previous visit is in another bucket', async () => void (await previousVisit({ bucket: 'elsewhere' }))],
      [
        'a ref moved',
        async () => {
          await previousVisit();
          cloner.listRemoteRefs.mockResolvedValue({ ...remote, refsHash: 'f'.repeat(64) });
        },
      ],
      [
        'HEAD names another branch',
        async () => {
          await previousVisit();
          cloner.listRemoteRefs.mockResolvedValue({
            ...remote,
            head: { sha: remote.refs[0].sha, target: { name: 'refs/heads/other', nameBytes: Buffer.from('refs/heads/other') } },
          });
        },
      ],
      [
        'the probe fails',
        async () => {
          await previousVisit();
          cloner.listRemoteRefs.mockRejectedValue(new GitError(GitErrorCode.NETWORK, 'Connection reset by the server'));
        },
      ],
      [
        'the previous manifest is gone',
        async () => {
          await previousVisit();
          memory.objects.delete(`${PREVIOUS_PREFIX}manifest.json`);
        },
      ],
    ];
    it.each(cloneAnyway)('clones and records changed (with the refs hash) when %s', async (_case, arrange) => {
      await arrange();
      await sut.archive(ID, context());
      expect(cloner.clone).toHaveBeenCalledTimes(1);
      expect(ownManifest()).toMatchObject({ outcome: 'changed', refsHash: sourceRefsHash, fileCount: 1 });
      expect(ownManifest().contentFrom).toBeUndefined();
      expect(archives.markCompleted.mock.calls[0][4]).toMatchObject({ outcome: 'changed', refsHash: sourceRefsHash });
    });

    it('records the ref changes since the previous snapshot, ancestry checked in the new clone', async () => {
      const before = await previousVisit();
      const rewritten = 'e'.repeat(40);
      const gone = { name: 'refs/heads/gone', sha: remote.refs[0].sha };
      memory.objects.set(
        `${PREVIOUS_PREFIX}manifest.json`,
        Buffer.from(JSON.stringify({ ...before, refs: [{ name: 'refs/heads/main', sha: rewritten }, gone] })),
      );
      cloner.listRemoteRefs.mockResolvedValue({ ...remote, refsHash: 'f'.repeat(64) });
      await sut.archive(ID, context());
      const { changes } = archives.markCompleted.mock.calls[0][4] as VisitOutcome;
      expect(changes).toEqual({
        sinceId: PREVIOUS,
        refs: [
          { nameBytes: Buffer.from('refs/heads/gone'), kind: 'deleted', oldSha: gone.sha, newSha: null },
          // The old commit is not in the new clone: history was rewritten.
          { nameBytes: Buffer.from('refs/heads/main'), kind: 'non_fast_forward', oldSha: rewritten, newSha: remote.refs[0].sha },
        ],
        summary: { created: 0, deleted: 1, fastForward: 0, nonFastForward: 1, tagMoved: 0 },
      });
    });

    it('completes without ref changes (unknown, not guessed) when the previous manifest is unreadable', async () => {
      await previousVisit();
      memory.objects.delete(`${PREVIOUS_PREFIX}manifest.json`);
      await sut.archive(ID, context());
      expect(archives.markCompleted.mock.calls[0][4]).toEqual({ outcome: 'changed', refsHash: sourceRefsHash });
    });

    describe('of an empty repository', () => {
      const emptySource = path.join(base, 'empty.git');
      /** What a probe of an empty repository says: no refs, and no HEAD (ls-remote lists no unborn one). */
      const emptyRemote: RemoteRefs = { refs: [], head: null, refsHash: refsHash([]), fetchedUrl: '', normalizedUrl: '' };
      beforeAll(() => execFileSync('git', ['init', '-q', '--bare', '-b', 'main', emptySource]));
      beforeEach(async () => {
        cloner.clone.mockImplementation(async ({ dir }: { dir: string }) => {
          execFileSync('cp', ['-r', emptySource, dir]);
          return { gitDir: dir, fetchedUrl: '', normalizedUrl: '', sizeBytes: 1 };
        });
        const before = await previousVisit();
        expect(before).toMatchObject({
          empty: true,
          refs: [],
          commit: null,
          defaultBranch: 'refs/heads/main',
          refsHash: emptyRemote.refsHash,
        });
      });

      it('ends unchanged while it stays empty: no clone, a manifest pointing at the empty snapshot', async () => {
        cloner.listRemoteRefs.mockResolvedValue(emptyRemote);
        await sut.archive(ID, context());
        expect(cloner.clone).not.toHaveBeenCalled();
        expect(ownManifest()).toMatchObject({
          outcome: 'unchanged',
          empty: true,
          bundle: null,
          defaultBranch: 'refs/heads/main',
          contentFrom: { archiveId: ID, prefix: PREVIOUS_PREFIX },
        });
        expect(archives.markCompleted.mock.calls[0][4]).toMatchObject({
          outcome: 'unchanged',
          refsHash: emptyRemote.refsHash,
          changes: { refs: [] },
        });
      });

      it.each<[string, () => Partial<RemoteRefs>]>([
        ['its HEAD now leads somewhere', () => ({ head: { sha: 'a'.repeat(40) } })],
        [
          'its HEAD now names another branch',
          () => ({ head: { sha: null, target: { name: 'refs/heads/x', nameBytes: Buffer.from('refs/heads/x') } } }),
        ],
        ['it gained refs', () => ({ refs: remote.refs, refsHash: sourceRefsHash, head: null })],
      ])('clones when %s', async (_case, probed) => {
        cloner.listRemoteRefs.mockResolvedValue({ ...emptyRemote, ...probed() });
        await sut.archive(ID, context());
        expect(cloner.clone).toHaveBeenCalledTimes(1);
        expect(archives.markCompleted.mock.calls[0][4]).toMatchObject({ outcome: 'changed' });
      });
    });

    it('clones a repository with refs whose probe shows no HEAD (only an empty one may lack it)', async () => {
      await previousVisit();
      cloner.listRemoteRefs.mockResolvedValue({ ...remote, head: null });
      await sut.archive(ID, context());
      expect(cloner.clone).toHaveBeenCalledTimes(1);
      expect(ownManifest()).toMatchObject({ outcome: 'changed' });
    });

    it('stops, recording nothing, when its signal fires during the probe', async () => {
      await previousVisit();
      const controller = new AbortController();
      cloner.listRemoteRefs.mockImplementation(async () => {
        controller.abort('the worker is shutting down');
        throw new GitError(GitErrorCode.ABORTED, 'Listing refs was aborted');
      });
      await expect(sut.archive(ID, { ...context(), signal: controller.signal })).rejects.toBeInstanceOf(RetryLaterError);
      expect(cloner.clone).not.toHaveBeenCalled();
      expect(archives.markCompleted).not.toHaveBeenCalled();
      expect(archives.markRunFailed).not.toHaveBeenCalled();
    });
  });

  describe('visit outcomes', () => {
    it('records a completed visit on its repository with its outcome and the schedule policy', async () => {
      archives.markCompleted.mockResolvedValue(row({ status: 'completed', outcome: 'unchanged', repositoryId: 'repo-1' }));
      await sut.archive(ID, context());
      expect(repositories.recordVisitOutcome).toHaveBeenCalledWith('repo-1', { kind: 'completed', outcome: 'unchanged' }, config.schedule);
    });

    it.each([
      ['a permanent failure', new GitError(GitErrorCode.NOT_FOUND, 'Repository not found'), 1, 'NOT_FOUND'],
      ['a transient failure on its last attempt', new GitError(GitErrorCode.NETWORK, 'Connection reset'), 4, 'NETWORK'],
    ])('records %s once the visit has finally failed', async (_, error, attempt, code) => {
      cloner.clone.mockRejectedValue(error);
      await expect(sut.archive(ID, context(attempt))).rejects.toBeInstanceOf(PermanentJobError);
      expect(repositories.recordVisitOutcome).toHaveBeenCalledTimes(1);
      expect(repositories.recordVisitOutcome.mock.calls[0][1]).toMatchObject({ kind: 'failed', code });
      expect(notifier.visitSettled).toHaveBeenCalledTimes(1);
      expect(notifier.visitSettled.mock.calls[0][1]).toMatchObject({ kind: 'failed', code });
    });

    it('hands every settled visit to the notifier with the repository as the outcome left it', async () => {
      const after = { id: 'repo-1', state: 'active' };
      repositories.recordVisitOutcome.mockResolvedValue(after);
      archives.markCompleted.mockResolvedValue(row({ status: 'completed', outcome: 'changed', repositoryId: 'repo-1' }));
      await sut.archive(ID, context());
      expect(notifier.visitSettled).toHaveBeenCalledWith(
        expect.objectContaining({ id: ID }),
        { kind: 'completed', outcome: 'changed' },
        after,
      );
    });

    it('records nothing for an attempt that will be retried, or a completion this run did not make', async () => {
      cloner.clone.mockRejectedValue(new GitError(GitErrorCode.NETWORK, 'Connection reset'));
      await expect(sut.archive(ID, context(1))).rejects.toBeInstanceOf(GitError);
      cloner.clone.mockRejectedValue(new GitError(GitErrorCode.NOT_FOUND, 'Repository not found'));
      archives.markRunFailed.mockResolvedValue(null);
      await expect(sut.archive(ID, context(1))).rejects.toBeInstanceOf(RetryLaterError);
      expect(repositories.recordVisitOutcome).not.toHaveBeenCalled();
    });

    it('never fails or retries the archive when the outcome cannot be recorded', async () => {
      repositories.recordVisitOutcome.mockRejectedValue(new DatabaseError(DatabaseErrorCode.Unavailable, 'down'));
      await expect(sut.archive(ID, context())).resolves.toBeUndefined();
      cloner.clone.mockRejectedValue(new GitError(GitErrorCode.NOT_FOUND, 'Repository not found'));
      await expect(sut.archive(ID, context(1))).rejects.toBeInstanceOf(PermanentJobError);
      expect(repositories.recordVisitOutcome).toHaveBeenCalledTimes(2);
    });
  });

  describe('politeness per upstream host', () => {
    it('gives a visit whose host is full or backing off back to the queue before claiming it: still queued, no run counted', async () => {
      for (const reason of ['busy', 'backoff']) {
        politeness.enter.mockRejectedValueOnce(new RetryLaterError(`host ${reason}`, 2_000));
        await expect(sut.archive(ID, context())).rejects.toMatchObject({ name: 'RetryLaterError', delayMs: 2_000 });
      }
      expect(archives.claimRun).not.toHaveBeenCalled();
      expect(cloner.clone).not.toHaveBeenCalled();
    });

    it('holds the host slot over the clone only, and gives it back in every outcome', async () => {
      cloner.clone.mockImplementationOnce(async ({ dir }: { dir: string }) => {
        expect(upstreamSlot.release).not.toHaveBeenCalled();
        execFileSync('cp', ['-r', source, dir]);
        return { gitDir: dir, fetchedUrl: '', normalizedUrl: '', sizeBytes: 1 };
      });
      await sut.archive(ID, context());
      expect(politeness.enter).toHaveBeenCalledWith(row().url);
      expect(upstreamSlot.release).toHaveBeenCalled();
      // Before the manifest is written: uploads never hold the host.
      expect(upstreamSlot.release.mock.invocationCallOrder[0]).toBeLessThan(archives.markCompleted.mock.invocationCallOrder[0]);

      upstreamSlot.release.mockClear();
      cloner.clone.mockRejectedValueOnce(new GitError(GitErrorCode.NOT_FOUND, 'Repository not found'));
      await expect(sut.archive(ID, context())).rejects.toBeInstanceOf(PermanentJobError);
      expect(upstreamSlot.release).toHaveBeenCalled();
    });

    it.each([
      ['the clone', 'clone'],
      ['the change probe', 'probe'],
    ])(
      'backs the host off when %s meets a rate limit: requeued as not started, no failure recorded, no clone after a refused probe',
      async (_, where) => {
        const refusal = new GitError(GitErrorCode.RATE_LIMITED, 'HTTP 429', { retryAfter: '3' });
        if (where === 'probe') {
          archives.setSnapshotLocation.mockImplementation(async (_id: string, runId: string, _b: string, prefix: string) =>
            row({ runId, bucket: 'b', prefix }),
          );
          archives.findPreviousCompletedVisit.mockResolvedValue(
            row({ id: 'prev', status: 'completed', refsHash: 'x', bucket: 'b', prefix: 'snapshots/p/' }),
          );
          cloner.listRemoteRefs.mockRejectedValue(refusal);
        } else {
          cloner.clone.mockRejectedValue(refusal);
        }
        await expect(sut.archive(ID, context(1, 1))).rejects.toMatchObject({ name: 'RetryLaterError', delayMs: 3_000 });
        expect(politeness.backOff).toHaveBeenCalledWith(row().url, refusal);
        const runId = archives.claimRun.mock.calls[0][1] as string;
        expect(archives.requeueRun).toHaveBeenCalledWith(ID, runId);
        expect(archives.markRunFailed).not.toHaveBeenCalled();
        expect(archives.recordAttemptError).not.toHaveBeenCalled();
        expect(repositories.recordVisitOutcome).not.toHaveBeenCalled();
        if (where === 'probe') expect(cloner.clone).not.toHaveBeenCalled();
      },
    );
  });
});

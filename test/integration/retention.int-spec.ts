import { randomUUID } from 'node:crypto';
import { mkdtemp, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, loadStackSettings } from '@archiver/config';
import { ArchiveRepository, PrismaService, RetentionRepository } from '@archiver/database';
import {
  ObjectStoreRepository,
  OBJECTS_FOLDER,
  readSnapshotManifest,
  referencedObjectKeys,
  type SnapshotManifest,
  TREES_FOLDER,
} from '@archiver/storage';
import {
  ApiClient,
  AppProcess,
  completedVisit,
  createFixtureRepos,
  fixtureGit,
  GitHttpServerHandle,
  gitText,
  KeycloakTestClient,
  refsOf,
  restoreFromDownload,
  restoreWithScript,
  settledArchive,
  startApp,
  startGitHttpServer,
  tearDown,
  waitFor,
  withFiles,
} from '@archiver/testing';

interface Preview {
  keep: { archiveId: string; reasons: string[]; chainAfter: string }[];
  prune: { archiveId: string }[];
  removedCount: number;
  removedBytes: number;
  removedObjects: number;
}
interface RepositoryBody {
  retention: { policy: Record<string, number> | null; lastPrunedAt: string | null; lastPrune: Record<string, number> | null };
}

// Six visits of a repository (commits, a new branch, a tag, a force-push, a deleted branch, an
// unchanged visit), then a prune under keepLast 2 on the real stack: the dry run says what the
// prune then does; every kept snapshot still restores exactly its own refs by script, by the
// consolidated bundle and in a restore drill; pruned snapshots and the blobs only they used are
// gone; the next visit builds on the new chain. A second repository, served slowly, shows the
// maintenance lease: a prune waits for a running visit, and no visit starts while a prune holds it.
describe('retention', () => {
  const config = loadConfig();
  const stack = loadStackSettings();
  const store = new ObjectStoreRepository(config.minio);
  const prisma = new PrismaService(config);
  const archives = new ArchiveRepository(prisma);
  const retention = new RetentionRepository(prisma);
  const keycloak = KeycloakTestClient.fromEnvironment();
  const workDir = path.join(os.tmpdir(), `archiver-retention-${process.pid}`);
  const apps: AppProcess[] = [];
  let worker: AppProcess;
  let http: GitHttpServerHandle;
  let slowHttp: GitHttpServerHandle;
  let api: ApiClient;
  let adminToken: string;
  let scratch: string;
  let upstream: string;
  let work: string;

  /** Commits on main in a working clone and pushes: `files` maps paths to content (null removes). */
  const commitFiles = async (message: string, files: Record<string, string | null>) => {
    await fixtureGit(['fetch', '--quiet', 'origin'], work);
    await fixtureGit(['reset', '--quiet', '--hard', 'origin/main'], work);
    for (const [file, content] of Object.entries(files)) {
      if (content === null) await unlink(path.join(work, file));
      else await writeFile(path.join(work, file), content);
    }
    await fixtureGit(['add', '-A'], work);
    await fixtureGit(['commit', '--quiet', '-m', message], work);
    await fixtureGit(['push', '--quiet', 'origin', 'HEAD:refs/heads/main'], work);
  };
  const visit = async (url: string) => {
    const { view: done, row } = await completedVisit(api, archives, url, 120_000);
    const manifest: SnapshotManifest = await readSnapshotManifest(store, row.bucket!, row.prefix!);
    return { id: done.id, row, manifest, files: (await withFiles(store, row.bucket!, manifest)).files };
  };
  const located = async (id: string, refs: string) => {
    const row = (await archives.findById(id))!;
    return { id, row, refs, manifest: await readSnapshotManifest(store, row.bucket!, row.prefix!) };
  };
  const visitUpstream = async () => ({ ...(await visit(http.url('kept.git'))), refs: await refsOf(upstream) });
  const restoredByScript = async (id: string) => {
    const { gitDir, bundles } = await restoreWithScript(api, id, scratch);
    return { refs: await refsOf(gitDir), bundles };
  };
  const restoredByDownload = async (id: string) => refsOf((await restoreFromDownload(api, id, scratch)).gitDir);
  const drill = async (id: string) => {
    const before = (await api.archive(id)) as unknown as { verification: { checkedAt: string | null } };
    expect((await api.call('POST', `/api/archives/${id}/verify`)).status).toBe(202);
    return waitFor(
      `the drill of ${id}`,
      async () => {
        const { verification } = (await api.archive(id)) as unknown as { verification: { checkedAt: string | null; status: string } };
        return verification.checkedAt !== null && verification.checkedAt !== before.verification.checkedAt ? verification : undefined;
      },
      90_000,
      250,
    );
  };
  const repositoryOf = async (repositoryId: string) =>
    (await api.call<RepositoryBody>('GET', `/api/repositories/${repositoryId}`, { token: adminToken })).body;
  const setPolicy = (repositoryId: string, json: unknown, token = adminToken) =>
    api.call<{ policy: unknown; error?: { code: string; message: string } }>('PUT', `/api/repositories/${repositoryId}/retention`, {
      json,
      token,
    });
  const prune = async (repositoryId: string) => {
    const accepted = await api.call<{ state: string }>('POST', `/api/repositories/${repositoryId}/prune`, { token: adminToken });
    expect(accepted.status).toBe(202);
  };
  const pruned = (repositoryId: string, after: string | null) =>
    waitFor(
      `the prune of ${repositoryId}`,
      async () => {
        const { retention: r } = await repositoryOf(repositoryId);
        return r.lastPrunedAt !== null && r.lastPrunedAt !== after ? r : undefined;
      },
      120_000,
      250,
    );
  /** Whether one line the app logged holds every fragment (field order in a line is not fixed). */
  const logLine = (app: AppProcess, fragments: string[]) =>
    app
      .output()
      .split('\n')
      .some((line) => fragments.every((fragment) => line.includes(fragment)));
  const keysUnder = async (bucket: string, prefix: string) => (await store.listAllObjects(bucket, prefix)).map((o) => o.name);

  beforeAll(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'archiver-retention-fixtures-'));
    const fixtures = await createFixtureRepos(scratch);
    upstream = path.join(fixtures.root, 'kept.git');
    await gitText(['clone', '--quiet', '--bare', fixtures.multi, upstream]);
    await gitText(['clone', '--quiet', '--bare', fixtures.multi, path.join(fixtures.root, 'slow.git')]);
    work = path.join(scratch, 'work');
    await fixtureGit(['clone', '--quiet', upstream, work], scratch);
    http = await startGitHttpServer({ root: fixtures.root });
    slowHttp = await startGitHttpServer({ root: fixtures.root, latencyMs: 1_500 });
    // One chain for all visits, so pruning the first snapshots cuts through it.
    const chain = { BUNDLE_CHAIN_MAX_DEPTH: '30', BUNDLE_CHAIN_MAX_SHARE: '100' };
    const frontend = await startApp('frontend', chain);
    worker = await startApp('worker', { ...chain, ARCHIVER_WORK_DIR: workDir, WORKER_CONCURRENCY: '2' });
    apps.push(frontend, await startApp('injector', chain), worker);
    api = new ApiClient(frontend.url, await keycloak.passwordToken(stack.demo.username, stack.demo.password));
    adminToken = await keycloak.passwordToken(stack.admin.username, stack.admin.password);
  });

  afterAll(() =>
    tearDown({
      apps,
      close: [() => store.close(), () => prisma.$disconnect(), () => http?.stop(), () => slowHttp?.stop()],
      dirs: [scratch, workDir],
    }),
  );

  it('prunes under a policy as the dry run said, and every kept snapshot restores exactly', async () => {
    // The demo user tracks it (so sees it and its dry run); tracking queues the first visit.
    const tracked = await api.call<{ lastVisit: { archiveId: string } }>('POST', '/api/repositories', {
      json: { url: http.url('kept.git') },
    });
    expect(tracked.status).toBe(201);
    await settledArchive(api, tracked.body.lastVisit.archiveId, 120_000);
    const v1 = await located(tracked.body.lastVisit.archiveId, await refsOf(upstream));
    const repositoryId = v1.row.repositoryId;
    const bucket = v1.row.bucket!;
    await commitFiles('only in the second snapshot', { 'ONLY-V2.md': 'a blob only a pruned snapshot maps\n' });
    await fixtureGit(['tag', '-a', '-m', 'three', 'v3.0', 'main'], upstream);
    const v2 = await visitUpstream();
    await commitFiles('drop it again', { 'ONLY-V2.md': null });
    await fixtureGit(['update-ref', 'refs/heads/topic', 'main'], upstream);
    const v3 = await visitUpstream();
    // A force-push onto unrelated history and a deleted branch.
    const rewritten = (await fixtureGit(['commit-tree', 'feature/x^{tree}', '-m', 'history rewritten'], upstream)).toString().trim();
    await fixtureGit(['update-ref', 'refs/heads/feature/x', rewritten], upstream);
    await fixtureGit(['update-ref', '-d', 'refs/heads/release'], upstream);
    await commitFiles('kept content', { 'KEPT.md': 'a blob the kept snapshots map\n' });
    const v4 = await visitUpstream();
    const v5 = await visitUpstream();
    expect(v5.manifest.contentFrom?.archiveId).toBe(v4.id);
    await commitFiles('newest', { 'NEWEST.md': 'newest\n' });
    const v6 = await visitUpstream();
    expect(v6.manifest.bundleChain!.map((l) => l.archiveId)).toEqual([v1.id, v2.id, v3.id, v4.id, v6.id]);
    const onlyV2 = v2.files.find((f) => f.path === 'ONLY-V2.md')!.key;
    const keptBlob = v4.files.find((f) => f.path === 'KEPT.md')!.key;
    expect(await keysUnder(bucket, onlyV2)).toEqual([onlyV2]);

    // The API: only admins set a policy, with bounded whole numbers.
    expect((await setPolicy(repositoryId, { keepLast: 2 }, '')).status).toBe(401);
    expect(
      (await setPolicy(repositoryId, { keepLast: 2 }, await keycloak.passwordToken(stack.demo.username, stack.demo.password))).status,
    ).toBe(403);
    for (const bad of [{ keepLast: -1 }, { keepLast: 1.5 }, { keepDaily: 1e9 }, { keepLast: '2' }, { keepEvery: 1 }]) {
      const refused = await setPolicy(repositoryId, bad);
      expect([refused.status, refused.body.error?.code]).toEqual([400, 'INVALID_REQUEST']);
    }
    expect((await api.call('POST', `/api/repositories/${repositoryId}/prune`)).status).toBe(403);
    const noPolicy = await api.call<{ error: { code: string } }>('POST', `/api/repositories/${repositoryId}/prune`, { token: adminToken });
    expect([noPolicy.status, noPolicy.body.error.code]).toEqual([409, 'NO_RETENTION_POLICY']);
    expect((await setPolicy(repositoryId, { keepLast: 2 })).status).toBe(200);
    expect((await repositoryOf(repositoryId)).retention.policy).toEqual({ keepLast: 2, keepDaily: 0, keepWeekly: 0, keepMonthly: 0 });

    // The dry run, as any user who sees the repository.
    const preview = await api.call<Preview>('GET', `/api/repositories/${repositoryId}/retention/preview`);
    expect(preview.status).toBe(200);
    expect(preview.body.keep).toEqual([
      { archiveId: v6.id, reasons: ['last', 'newest'], chainAfter: `new increment on ${v4.id}` },
      { archiveId: v5.id, reasons: ['last'], chainAfter: 'unchanged' },
      { archiveId: v4.id, reasons: [`content of kept ${v5.id}`], chainAfter: 'new checkpoint' },
    ]);
    expect(preview.body.prune).toEqual([{ archiveId: v3.id }, { archiveId: v2.id }, { archiveId: v1.id }]);
    // Blobs and trees/ listings that only pruned snapshots reference: the blob only v2 mapped, and
    // the listings of directory states no kept snapshot has (their root trees, at least).
    const referenced = async (snapshots: { manifest: SnapshotManifest; row: { prefix: string | null } }[]) => {
      const keys = new Set<string>();
      for (const { manifest, row } of snapshots)
        for (const key of (await referencedObjectKeys(store, bucket, manifest, row.prefix!)).keys()) keys.add(key);
      return keys;
    };
    const keptKeys = await referenced([v4, v5, v6]);
    const unreferenced = [...(await referenced([v1, v2, v3]))].filter((key) => !keptKeys.has(key));
    expect(unreferenced).toContain(onlyV2);
    expect(unreferenced.some((key) => key.startsWith(TREES_FOLDER))).toBe(true);
    expect(preview.body.removedObjects).toBe(unreferenced.length);
    expect(preview.body.removedBytes).toBeGreaterThan(v1.manifest.bundle!.size);
    // A policy can be tried before it is set; the stored one stays.
    const tried = await api.call<Preview>('GET', `/api/repositories/${repositoryId}/retention/preview?keepLast=6`);
    expect([tried.status, tried.body.prune]).toEqual([200, []]);
    const triedTwo = await api.call<Preview>('GET', `/api/repositories/${repositoryId}/retention/preview?keepLast=1&keepMonthly=1`);
    expect(triedTwo.body.prune.map((p) => p.archiveId)).toEqual([v5.id, v4.id, v3.id, v2.id, v1.id]);
    expect((await api.call('GET', `/api/repositories/${repositoryId}/retention/preview?keepLast=-1`)).status).toBe(400);

    // The ref changes between kept snapshots, as they read before the prune.
    type RefChanges = { from: { id: string } | null; changes: { ref: string; kind: string; newSha: string | null }[] };
    const refChanges = async (query: string) => {
      const response = await api.call<RefChanges>('GET', `/api/repositories/${repositoryId}/changes${query}`);
      expect(response.status).toBe(200);
      return response.body;
    };
    const keptRange = await refChanges(`?from=${v4.id}&to=${v6.id}`);
    const wholeRange = await refChanges(`?from=${v1.id}&to=${v6.id}`);

    // As if an earlier prune had crashed right after removing v1's manifest: this one finishes the job.
    await store.removeObject(bucket, `${v1.row.prefix!}manifest.json`);
    await prune(repositoryId);
    const done = await pruned(repositoryId, null);
    expect(done.lastPrune).toMatchObject({ removed: 3, kept: 3, rechained: 2 });
    // The result is recorded (with the lease given back) just before the worker logs it.
    await waitFor(
      'the worker to log the prune',
      async () => logLine(worker, ['"msg":"pruned repository"', '"removed":3', `"repositoryId":"${repositoryId}"`]) || undefined,
      10_000,
    );

    // What the dry run said would go is gone: rows, prefixes, and the blob only v2 mapped.
    for (const gone of [v1, v2, v3]) {
      expect((await api.call('GET', `/api/archives/${gone.id}`)).status).toBe(404);
      expect(await keysUnder(bucket, gone.row.prefix!)).toEqual([]);
    }
    expect(await keysUnder(bucket, onlyV2)).toEqual([]);
    expect(await keysUnder(bucket, keptBlob)).toEqual([keptBlob]);
    // The pruned visits' ref changes were folded into v4's: ranges between kept snapshots read as
    // before, and v4, now the oldest, holds every ref it saw as created (no 409 across the gap).
    expect(await refChanges(`?from=${v4.id}&to=${v6.id}`)).toEqual(keptRange);
    const sinceNothing = await refChanges(`?to=${v4.id}`);
    expect(sinceNothing.from).toBeNull();
    expect(sinceNothing.changes.map((c) => c.kind)).toEqual(sinceNothing.changes.map(() => 'created'));
    expect(sinceNothing.changes.map((c) => `${c.newSha} ${c.ref}`).sort()).toEqual(v4.refs.trim().split('\n').sort());
    expect(wholeRange.changes.length).toBeGreaterThan(0);
    const remainingBlobs = await keysUnder(bucket, OBJECTS_FOLDER);
    for (const file of v4.files) expect(remainingBlobs).toContain(file.key);
    // Exactly what kept snapshots reference is left under objects/ and trees/.
    expect([...remainingBlobs, ...(await keysUnder(bucket, TREES_FOLDER))].sort()).toEqual([...keptKeys].sort());

    // Every kept snapshot restores exactly its own refs: script, consolidated bundle, drill.
    const byScript = await restoredByScript(v6.id);
    expect(byScript.refs).toBe(v6.refs);
    expect(byScript.bundles.map((b) => b.kind)).toEqual(['full', 'incremental']);
    expect(byScript.bundles.every((b) => b.url.includes('/chains/'))).toBe(true);
    for (const kept of [v4, v5]) expect((await restoredByScript(kept.id)).refs).toBe(kept.refs);
    expect((await restoredByScript(v4.id)).bundles.map((b) => b.kind)).toEqual(['full']);
    for (const kept of [v4, v5, v6]) expect(await restoredByDownload(kept.id)).toBe(kept.refs);
    for (const kept of [v4, v6]) expect(await drill(kept.id)).toMatchObject({ status: 'passed' });
    // Nothing a kept snapshot stored was rewritten: its manifest is the one the visit wrote.
    expect(await readSnapshotManifest(store, bucket, v6.row.prefix!)).toEqual(v6.manifest);

    // The next visit builds an increment on the new chain and restores.
    await commitFiles('after the prune', { 'AFTER.md': 'after\n' });
    const v7 = await visitUpstream();
    expect(v7.manifest.bundleKind).toBe('incremental');
    expect(v7.manifest.bundleChain!.map((l) => l.archiveId)).toEqual([v4.id, v6.id, v7.id]);
    expect((await restoredByScript(v7.id)).refs).toBe(v7.refs);

    // A second prune cuts the new chain again: v6 becomes the checkpoint v7 builds on.
    const again = await api.call<Preview>('GET', `/api/repositories/${repositoryId}/retention/preview`);
    expect(again.body.keep.map((k) => [k.archiveId, k.chainAfter])).toEqual([
      [v7.id, `new increment on ${v6.id}`],
      [v6.id, 'new checkpoint'],
    ]);
    await prune(repositoryId);
    await pruned(repositoryId, done.lastPrunedAt);
    for (const kept of [v6, v7]) expect((await restoredByScript(kept.id)).refs).toBe(kept.refs);
  });

  it('a prune waits for a running visit, and no visit starts while a prune holds the lease', async () => {
    const slowUrl = slowHttp.url('slow.git');
    const slowUpstream = path.join(path.dirname(upstream), 'slow.git');
    const first = await visit(slowUrl);
    const repositoryId = first.row.repositoryId;
    expect((await setPolicy(repositoryId, { keepLast: 1 })).status).toBe(200);
    const next = (await fixtureGit(['commit-tree', 'main^{tree}', '-p', 'main', '-m', 'slow change'], slowUpstream)).toString().trim();
    await fixtureGit(['update-ref', 'refs/heads/main', next], slowUpstream);

    // A visit runs (slowly); the prune asked for meanwhile backs off until it has finished.
    const running = await api.submit(slowUrl);
    await waitFor('the visit to run', async () => ((await api.archive(running.id)).status === 'running' ? true : undefined), 60_000, 100);
    await prune(repositoryId);
    await waitFor(
      'the prune to back off',
      async () => (/visit\(s\) of the repository are running/.test(worker.output()) ? true : undefined),
      60_000,
      100,
    );
    const visited = await settledArchive(api, running.id, 120_000);
    expect(visited.status).toBe('completed');
    const done = await pruned(repositoryId, null);
    expect(new Date(done.lastPrunedAt!).getTime()).toBeGreaterThan(new Date(visited.finishedAt!).getTime());
    expect((await api.call('GET', `/api/archives/${first.id}`)).status).toBe(404);

    // While the maintenance lease is held (as a prune holds it), a visit waits and never starts.
    const holder = randomUUID();
    expect(await retention.takeLease(repositoryId, holder, 120_000)).toBe(true);
    expect(await retention.takeLease(repositoryId, randomUUID(), 120_000)).toBe(false);
    const waiting = await api.submit(slowUrl);
    await waitFor(
      'the visit to be postponed',
      async () => (logLine(worker, [`"archiveId":"${waiting.id}"`, 'a prune of the repository is running']) ? true : undefined),
      60_000,
      100,
    );
    const held = await archives.findById(waiting.id);
    expect([held!.status, held!.startedAt]).toEqual(['queued', null]);
    const releasedAt = new Date();
    await retention.releaseLease(repositoryId, holder);
    const after = await settledArchive(api, waiting.id, 120_000);
    expect(after.status).toBe('completed');
    expect(new Date(after.startedAt!).getTime()).toBeGreaterThanOrEqual(releasedAt.getTime() - 1_000);
  });

  it('the lease and a visit claim exclude each other, also when they race (row lock on the repository)', async () => {
    const url = `https://retention.test/race/${randomUUID()}.git`;
    const queuedVisit = async () => {
      const { archive } = await archives.createOrFindActive({ url, normalizedUrl: url, requestedBy: `race-${randomUUID()}` });
      await archives.markQueued(archive.id, new Date());
      return archive;
    };
    const first = await queuedVisit();
    const holder = randomUUID();
    expect(await retention.takeLease(first.repositoryId, holder, 60_000)).toBe(true);
    expect(await archives.claimRun(first.id, randomUUID(), 60_000, new Date())).toBeNull();
    expect(await archives.describeClaim(first.id)).toMatchObject({ state: 'maintenance' });
    await retention.releaseLease(first.repositoryId, holder);
    expect(await archives.claimRun(first.id, randomUUID(), 60_000, new Date())).not.toBeNull();
    await prisma.archive.updateMany({ where: { id: first.id }, data: { status: 'failed', runExpiresAt: null } });

    // Either the claim wins (and the prune then sees a live visit) or the lease wins (and the
    // claim is refused): never a prune that sees no visit while one has started.
    for (let round = 0; round < 20; round++) {
      const visit = await queuedVisit();
      const pruneId = randomUUID();
      const [claimed, prune] = await Promise.all([
        archives.claimRun(visit.id, randomUUID(), 60_000, new Date()),
        (async () => {
          const took = await retention.takeLease(visit.repositoryId, pruneId, 60_000);
          return { took, live: took ? await retention.countLiveVisits(visit.repositoryId) : -1 };
        })(),
      ]);
      expect(prune.took).toBe(true);
      if (claimed) expect(prune.live).toBe(1);
      else expect(await archives.describeClaim(visit.id)).toMatchObject({ state: 'maintenance' });
      await retention.releaseLease(visit.repositoryId, pruneId);
      await prisma.archive.updateMany({ where: { id: visit.id }, data: { status: 'failed', runExpiresAt: null } });
    }
    await prisma.archive.deleteMany({ where: { normalizedUrl: url } });
    await prisma.repository.deleteMany({ where: { normalizedUrl: url } });
  });

  it('the injector queues a prune of each repository with a policy, at most once per interval', async () => {
    const { items } = (
      await api.call<{ items: { id: string; retention: RepositoryBody['retention'] }[] }>('GET', '/api/repositories?pageSize=100', {
        token: adminToken,
      })
    ).body;
    const withPolicy = items.filter((r) => r.retention.policy !== null);
    expect(withPolicy.length).toBeGreaterThan(0);
    const sweeper = await startApp('injector', { RETENTION_INTERVAL_SECONDS: '2' });
    try {
      for (const repository of withPolicy) await pruned(repository.id, repository.retention.lastPrunedAt);
    } finally {
      await sweeper.stop();
    }
  });
});

import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, loadStackSettings } from '@archiver/config';
import { ArchiveRepository, PrismaService } from '@archiver/database';
import { ObjectStoreRepository, readSnapshotManifest, type SnapshotManifest } from '@archiver/storage';
import {
  ApiClient,
  AppProcess,
  commitOnBranch,
  completedVisit,
  createFixtureRepos,
  fixtureGit,
  GitHttpServerHandle,
  gitText,
  KeycloakTestClient,
  refsOf,
  restoreFromDownload,
  restoreWithScript,
  startApp,
  startGitHttpServer,
  tearDown,
} from '@archiver/testing';

// Five visits of a repository that gains commits, branches and tags, with a force-push and a
// deleted branch in between, on the real stack with a chain depth of 3: each snapshot stores a
// full bundle, an increment, or nothing new, and every one restores exactly its own refs — with
// the restore script (curl + git) and with the consolidated bundle a worker builds on request.
describe('incremental snapshots', () => {
  const config = loadConfig();
  const stack = loadStackSettings();
  const store = new ObjectStoreRepository(config.minio);
  const prisma = new PrismaService(config);
  const archives = new ArchiveRepository(prisma);
  const keycloak = KeycloakTestClient.fromEnvironment();
  const workDir = path.join(os.tmpdir(), `archiver-incremental-${process.pid}`);
  const apps: AppProcess[] = [];
  let http: GitHttpServerHandle;
  let api: ApiClient;
  let adminToken: string;
  let scratch: string;
  let upstream: string;

  /** Visits the repository; returns the visit, its manifest and the refs upstream had. */
  const visit = async () => {
    const refs = await refsOf(upstream);
    const { view, row } = await completedVisit(api, archives, http.url('evolving.git'), 120_000);
    return { id: view.id, refs, manifest: await readSnapshotManifest(store, row.bucket!, row.prefix!), row };
  };
  const restoredByScript = async (id: string) => {
    const { gitDir, bundles } = await restoreWithScript(api, id, scratch);
    return { refs: await refsOf(gitDir), kinds: bundles.map((b) => b.kind) };
  };
  const restoredByDownload = async (id: string) => refsOf((await restoreFromDownload(api, id, scratch)).gitDir);

  beforeAll(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'archiver-incremental-fixtures-'));
    const fixtures = await createFixtureRepos(scratch);
    upstream = path.join(fixtures.root, 'evolving.git');
    await gitText(['clone', '--quiet', '--bare', fixtures.multi, upstream]);
    http = await startGitHttpServer({ root: fixtures.root });
    const chain = { BUNDLE_CHAIN_MAX_DEPTH: '3', BUNDLE_CHAIN_MAX_SHARE: '100' };
    const frontend = await startApp('frontend', chain);
    apps.push(frontend, await startApp('injector', chain), await startApp('worker', { ...chain, ARCHIVER_WORK_DIR: workDir }));
    api = new ApiClient(frontend.url, await keycloak.passwordToken(stack.demo.username, stack.demo.password));
    adminToken = await keycloak.passwordToken(stack.admin.username, stack.admin.password);
  });

  afterAll(() =>
    tearDown({ apps, close: [() => store.close(), () => prisma.$disconnect(), () => http?.stop()], dirs: [scratch, workDir] }),
  );

  it('stores increments, checkpoints, and restores every snapshot exactly, by script and by consolidated bundle', async () => {
    const kindOf = (manifest: SnapshotManifest) => [manifest.bundleKind ?? null, manifest.bundleChain?.length];
    const v1 = await visit();
    expect(kindOf(v1.manifest)).toEqual(['full', 1]);

    await commitOnBranch(upstream, 'main', 'second');
    await fixtureGit(['tag', '-a', '-m', 'three', 'v3.0', 'main'], upstream);
    const v2 = await visit();
    expect(kindOf(v2.manifest)).toEqual(['incremental', 2]);

    // A force-push onto unrelated history and a deleted branch; the upstream forgets the old commits.
    const rewritten = (await fixtureGit(['commit-tree', 'feature/x^{tree}', '-m', 'history rewritten'], upstream)).toString().trim();
    await fixtureGit(['update-ref', 'refs/heads/feature/x', rewritten], upstream);
    await fixtureGit(['update-ref', '-d', 'refs/heads/release'], upstream);
    await fixtureGit(['gc', '--quiet', '--prune=now'], upstream);
    const v3 = await visit();
    expect(kindOf(v3.manifest)).toEqual(['incremental', 3]);

    // Only a new branch on a commit already stored: nothing new to bundle, the refs say it all.
    await fixtureGit(['update-ref', 'refs/heads/alias', 'main~1'], upstream);
    const v4 = await visit();
    expect(v4.manifest.bundle).toBeNull();
    expect(v4.manifest.bundleChain).toEqual(v3.manifest.bundleChain);

    // The chain is full (depth 3): the next change starts a new one with a full bundle.
    await commitOnBranch(upstream, 'main', 'fifth');
    const v5 = await visit();
    expect(kindOf(v5.manifest)).toEqual(['full', 1]);

    // Increments hold only what changed: far smaller than the full bundle they build on.
    const full = v1.manifest.bundle!.size;
    for (const v of [v2, v3]) expect(v.manifest.bundle!.size).toBeLessThan(full);

    for (const v of [v1, v2, v3, v4, v5]) expect((await restoredByScript(v.id)).refs).toBe(v.refs);
    expect((await restoredByScript(v3.id)).kinds).toEqual(['full', 'incremental', 'incremental']);
    // The commits the force-push and the deletion dropped upstream restore from the snapshots before.
    const before = await restoredByScript(v2.id);
    expect(before.refs).toContain('refs/heads/release');

    // One bundle per snapshot on request: a single full one as is, increments consolidated.
    for (const v of [v1, v3, v4]) expect(await restoredByDownload(v.id)).toBe(v.refs);
    const status = await api.call<{ status: string }>('GET', `/api/archives/${v3.id}/bundle`);
    expect(status.body.status).toBe('ready');

    // A snapshot whose bundle later snapshots restore through cannot be deleted alone.
    const refused = await api.call<{ error: { code: string } }>('DELETE', `/api/archives/${v1.id}`, { token: adminToken });
    expect([refused.status, refused.body.error.code]).toEqual([409, 'ARCHIVE_REFERENCED']);

    // A corrupted stored increment is caught when a bundle is built from it, not served.
    const bucket = v2.row.bucket!;
    await store.putBuffer(bucket, v2.manifest.bundle!.key, Buffer.from('not the bundle that was stored'));
    const corrupted = await api.call<{ error: { code: string; message: string } }>('GET', `/api/archives/${v2.id}/download`);
    expect([corrupted.status, corrupted.body.error.code]).toEqual([409, 'BUNDLE_FAILED']);
    expect(corrupted.body.error.message).toMatch(/corrupted/);
  });
});

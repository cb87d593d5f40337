import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, loadStackSettings } from '@archiver/config';
import { ArchiveRepository, PrismaService } from '@archiver/database';
import { bundleKey, LatestView, manifestKey, ObjectStoreRepository, readManifestRefs, SnapshotManifest } from '@archiver/storage';
import {
  ApiClient,
  AppProcess,
  completedVisit,
  createFixtureRepos,
  fixtureGit,
  FixtureRepos,
  GitHttpServerHandle,
  gitText,
  KeycloakTestClient,
  readAll,
  refsOf,
  restoreFromDownload,
  settledArchive,
  startApp,
  startGitHttpServer,
  tearDown,
  waitFor,
} from '@archiver/testing';

const git = gitText;

// Visits of one repository on the real stack: a visit whose refs have not moved asks the git
// server only for its refs (no pack) and stores a manifest that points at the earlier snapshot.
describe('unchanged visits end to end', () => {
  const config = loadConfig();
  const stack = loadStackSettings();
  const store = new ObjectStoreRepository(config.minio);
  const prisma = new PrismaService(config);
  const archives = new ArchiveRepository(prisma);
  const keycloak = KeycloakTestClient.fromEnvironment();
  const workDir = path.join(os.tmpdir(), `archiver-unchanged-${process.pid}`);
  const apps: AppProcess[] = [];
  let fixtures: FixtureRepos;
  let http: GitHttpServerHandle;
  let api: ApiClient;
  let scratch: string;

  const manifestOf = async (bucket: string, prefix: string) =>
    JSON.parse((await readAll(await store.getObject(bucket, manifestKey(prefix)))).toString('utf8')) as SnapshotManifest;
  const bucketBytes = async (bucket: string) => (await store.listAllObjects(bucket, '')).reduce((sum, o) => sum + o.size, 0);
  /** The worker copies a changed visit's tree to latest/ just after completing it: wait for that before measuring. */
  const latestShows = (bucket: string, prefix: string) =>
    waitFor(`latest/ to show ${prefix}`, async () => ((await new LatestView(store).record(bucket))?.prefix === prefix ? true : undefined));
  /** Pack requests: a v0 POST, or a v2 POST for anything but the ref listing. */
  const packRequestsSince = (index: number) =>
    http.requestLog.slice(index).filter((r) => r.method === 'POST' && r.path.endsWith('/git-upload-pack') && r.command !== 'ls-refs');
  const branchesAndTags = (dir: string) => refsOf(dir, 'refs/heads', 'refs/tags');
  /** Downloads the visit's bundle through the API and restores it with plain git: its refs, and its bytes. */
  const restoreDownload = async (id: string) => {
    const { gitDir, bundle } = await restoreFromDownload(api, id, scratch);
    return { bytes: bundle, refs: await branchesAndTags(gitDir) };
  };
  const visit = async (name = 'multi') => completedVisit(api, archives, http.url(name));

  beforeAll(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'archiver-unchanged-fixtures-'));
    fixtures = await createFixtureRepos(scratch);
    http = await startGitHttpServer({ root: fixtures.root });
    const frontend = await startApp('frontend');
    apps.push(frontend, await startApp('injector'), await startApp('worker', { ARCHIVER_WORK_DIR: workDir }));
    api = new ApiClient(frontend.url, await keycloak.passwordToken(stack.demo.username, stack.demo.password));
  });

  afterAll(() =>
    tearDown({ apps, close: [() => store.close(), () => prisma.$disconnect(), () => http?.stop()], dirs: [scratch, workDir] }),
  );

  it('a second visit with the same refs fetches no pack and points at the first snapshot; a pushed commit makes the next one changed', async () => {
    const first = await visit();
    expect(first.row).toMatchObject({ outcome: 'changed', refsHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const bucket = first.row.bucket!;
    const firstManifest = await manifestOf(bucket, first.row.prefix!);
    expect(firstManifest).toMatchObject({ outcome: 'changed', refsHash: first.row.refsHash });
    expect(firstManifest.contentFrom).toBeUndefined();

    const logBefore = http.requestLog.length;
    await latestShows(bucket, first.row.prefix!);
    const bytesBefore = await bucketBytes(bucket);
    const second = await visit();
    expect(second.row).toMatchObject({
      outcome: 'unchanged',
      refsHash: first.row.refsHash,
      commit: first.row.commit,
      fileCount: first.row.fileCount,
      byteCount: first.row.byteCount,
      refCount: first.row.refCount,
      bucket,
    });
    expect(second.row.prefix).not.toBe(first.row.prefix);
    expect(http.requestLog.slice(logBefore).some((r) => r.command === 'ls-refs')).toBe(true);
    expect(packRequestsSince(logBefore)).toEqual([]);
    expect((await bucketBytes(bucket)) - bytesBefore).toBeLessThan(10 * 1024);
    const secondManifest = await manifestOf(bucket, second.row.prefix!);
    expect(secondManifest).toMatchObject({
      archiveId: second.view.id,
      outcome: 'unchanged',
      unchanged: true,
      refsHash: first.row.refsHash,
      contentFrom: { archiveId: first.view.id, prefix: first.row.prefix },
      version: 4,
      tree: null,
      bundle: null,
      commit: firstManifest.commit,
    });
    // Its refs are those of the snapshot holding the content (same hash), not listed again.
    expect(secondManifest.refs).toBeUndefined();
    expect(await readManifestRefs(store, bucket, secondManifest)).toEqual(firstManifest.refs);
    const firstBundle = await readAll(await store.getObject(bucket, bundleKey(first.row.prefix!)));
    expect((await restoreDownload(second.view.id)).bytes.equals(firstBundle)).toBe(true);

    // Upstream moves: a new commit on main.
    const firstRefs = await branchesAndTags(fixtures.multi);
    const commit = (await fixtureGit(['commit-tree', 'HEAD^{tree}', '-p', 'HEAD', '-m', 'a later commit'], fixtures.multi))
      .toString()
      .trim();
    await fixtureGit(['update-ref', 'refs/heads/main', commit], fixtures.multi);
    const laterRefs = await branchesAndTags(fixtures.multi);
    expect(laterRefs).not.toBe(firstRefs);

    const logBeforeThird = http.requestLog.length;
    const third = await visit();
    expect(third.row).toMatchObject({ outcome: 'changed', commit });
    expect(third.row.refsHash).not.toBe(first.row.refsHash);
    expect(packRequestsSince(logBeforeThird).length).toBeGreaterThan(0);
    const thirdManifest = await manifestOf(bucket, third.row.prefix!);
    expect(thirdManifest).toMatchObject({ outcome: 'changed', refsHash: third.row.refsHash, commit });
    expect(thirdManifest.contentFrom).toBeUndefined();
    expect(thirdManifest.bundle).not.toBeNull();

    // Each snapshot restores exactly its own refs.
    expect((await restoreDownload(first.view.id)).refs).toBe(firstRefs);
    expect((await restoreDownload(second.view.id)).refs).toBe(firstRefs);
    expect((await restoreDownload(third.view.id)).refs).toBe(laterRefs);
  });

  it('an unchanged visit of a repository with thousands of refs still adds under 10 KB', async () => {
    // As many refs as git/git has, with names as long as real ones: listing them again would be ~0.5 MB.
    const REFS = 5_000;
    const many = path.join(fixtures.root, 'many-refs.git');
    await git(['clone', '--quiet', '--bare', fixtures.multi, many]);
    const head = (await git(['rev-parse', 'main'], many)).trim();
    const input = Array.from({ length: REFS }, (_, i) => `create refs/tags/release-candidate/v${i}.0.0-long-suffix-${i} ${head}`).join(
      '\n',
    );
    await new Promise<void>((resolve, reject) => {
      const child = execFile('git', ['update-ref', '--stdin'], { cwd: many }, (error) => (error ? reject(error) : resolve()));
      child.stdin!.end(`${input}\n`);
    });
    const url = http.url('many-refs.git');
    const first = await settledArchive(api, (await api.submit(url)).id, 120_000);
    expect(first).toMatchObject({ status: 'completed', refCount: REFS + 5 });
    const row = (await archives.findById(first.id))!;
    await latestShows(row.bucket!, row.prefix!);
    const before = await bucketBytes(row.bucket!);
    const second = await settledArchive(api, (await api.submit(url)).id, 120_000);
    expect((await archives.findById(second.id))!).toMatchObject({ outcome: 'unchanged', refCount: REFS + 5 });
    expect((await bucketBytes(row.bucket!)) - before).toBeLessThan(10 * 1024);
  });

  it('an empty repository visited again while still empty ends unchanged, without a clone', async () => {
    const first = await visit('empty');
    expect(first.row).toMatchObject({ outcome: 'changed', commit: null, refCount: 0, fileCount: 0 });
    const lsRefsSince = (index: number) => http.requestLog.slice(index).filter((r) => r.command === 'ls-refs');

    const logBefore = http.requestLog.length;
    const second = await visit('empty');
    expect(second.row).toMatchObject({ outcome: 'unchanged', refsHash: first.row.refsHash, commit: null, refCount: 0 });
    // A clone of an empty repository fetches no pack either: what tells it from the probe is
    // that it lists the refs a second time.
    expect(lsRefsSince(logBefore)).toHaveLength(1);
    expect(packRequestsSince(logBefore)).toEqual([]);
    expect(await manifestOf(second.row.bucket!, second.row.prefix!)).toMatchObject({
      outcome: 'unchanged',
      empty: true,
      bundle: null,
      contentFrom: { archiveId: first.view.id, prefix: first.row.prefix },
    });
  });
});

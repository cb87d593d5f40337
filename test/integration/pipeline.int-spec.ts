import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadConfig, loadStackSettings } from '@archiver/config';
import { manifestKey, ObjectStoreRepository, SnapshotManifest } from '@archiver/storage';
import {
  ApiClient,
  AppProcess,
  closeAll,
  createFixtureRepos,
  FixtureRepos,
  GitHttpServerHandle,
  KeycloakTestClient,
  processesMentioning,
  readAll,
  readManifestWithFiles,
  settledArchive,
  startApp,
  startGitHttpServer,
  waitFor,
} from '@archiver/testing';

const run = promisify(execFile);
const git = async (args: string[], cwd?: string) =>
  (await run('git', args, { cwd, maxBuffer: 64 * 1024 * 1024, encoding: 'buffer' })).stdout;

// The whole pipeline on the real stack: REST with a real Keycloak token → Postgres →
// Redis → injector → worker → MinIO, against fixture repositories on loopback.
describe('archive pipeline end to end', () => {
  const config = loadConfig();
  const stack = loadStackSettings();
  const store = new ObjectStoreRepository(config.minio);
  const keycloak = KeycloakTestClient.fromEnvironment();
  const workDir = path.join(os.tmpdir(), `archiver-pipeline-${process.pid}`);
  const apps: AppProcess[] = [];
  const workerEnv = { ARCHIVER_WORK_DIR: workDir, WORKER_LOCK_SECONDS: '4', CLONE_TIMEOUT_SECONDS: '60' };
  let fixtures: FixtureRepos;
  let http: GitHttpServerHandle;
  let slowHttp: GitHttpServerHandle;
  let api: ApiClient;
  let scratch: string;

  const submit = (url: string) => api.submit(url);
  const settled = (id: string, timeoutMs?: number) => settledArchive(api, id, timeoutMs);
  const leftoverDirs = async (id: string) => (await readdir(workDir).catch(() => [] as string[])).filter((n) => n.includes(id));
  /**
   * The worker stamps the archive finished and then removes its temp dir, so right after the
   * status changes the dir may still be there: it must be gone within a few seconds.
   */
  const expectNoTempDirLeft = (id: string) =>
    waitFor(`the temp dir of ${id} to be removed`, async () => ((await leftoverDirs(id)).length === 0 ? true : undefined), 10_000);

  beforeAll(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'archiver-pipeline-fixtures-'));
    fixtures = await createFixtureRepos(scratch);
    http = await startGitHttpServer({ root: fixtures.root });
    slowHttp = await startGitHttpServer({ root: fixtures.root, latencyMs: 2500 });
    const frontend = await startApp('frontend');
    apps.push(frontend, await startApp('injector'), await startApp('worker', workerEnv));
    api = new ApiClient(frontend.url, await keycloak.passwordToken(stack.demo.username, stack.demo.password));
  });

  afterAll(async () => {
    try {
      await Promise.all(apps.map((app) => app.stop()));
    } finally {
      store.close();
      await closeAll(
        http?.stop(),
        slowHttp?.stop(),
        scratch ? rm(scratch, { recursive: true, force: true }) : undefined,
        rm(workDir, { recursive: true, force: true }),
      );
    }
  });

  it('archives a repository with branches, tags and odd files: files, bundle and manifest are exact', async () => {
    const submitted = await submit(http.url('multi'));
    expect(submitted.status).toBe('pending');
    const done = await settled(submitted.id);
    expect(done).toMatchObject({ status: 'completed', error: null, attempts: 1 });

    const stamps = [done.createdAt, done.injectedAt, done.startedAt, done.finishedAt].map((s) => new Date(s!).getTime());
    expect(stamps).toEqual([...stamps].sort((a, b) => a - b));

    const head = (await git(['rev-parse', 'HEAD'], fixtures.multi)).toString().trim();
    expect(done.commit).toBe(head);

    // Every file of HEAD's tree, byte for byte.
    const tree = (await git(['ls-tree', '-r', '-z', '--name-only', 'HEAD'], fixtures.multi)).toString().split('\0').filter(Boolean);
    const submodules = (await git(['ls-tree', '-r', 'HEAD'], fixtures.multi))
      .toString()
      .split('\n')
      .filter((l) => l.includes(' commit '))
      .map((l) => l.split('\t')[1]);
    const files = tree.filter((p) => !submodules.includes(p));
    expect(submodules).toHaveLength(1);
    expect(files.length).toBeGreaterThan(5);
    expect(done.fileCount).toBe(files.length);
    const keys = new Map((await readManifestWithFiles(store, done.bucket!, done.prefix!)).files.map((entry) => [entry.path, entry.key]));
    for (const file of files) {
      const expected = await git(['cat-file', 'blob', `HEAD:${file}`], fixtures.multi);
      // The manifest maps each path to the blob holding its bytes (objects/<git id>, shared by snapshots).
      const stored = await readAll(await store.getObject(done.bucket!, keys.get(file)!));
      expect({ file, equal: stored.equals(expected) }).toEqual({ file, equal: true });
    }

    // The manifest is there and right.
    const manifest = JSON.parse(
      (await readAll(await store.getObject(done.bucket!, manifestKey(done.prefix!)))).toString(),
    ) as SnapshotManifest;
    expect(manifest).toMatchObject({
      archiveId: done.id,
      commit: head,
      fileCount: files.length,
      empty: false,
      defaultBranch: 'refs/heads/main',
    });
    expect(manifest.timestamps.finishedAt).toBe(done.finishedAt);

    // The bundle restores every ref with plain git.
    const bundle = path.join(scratch, 'multi.bundle');
    await writeFile(bundle, await readAll(await store.getObject(done.bucket!, `${done.prefix}repo.bundle`)));
    const restored = path.join(scratch, 'restored.git');
    await git(['clone', '--mirror', bundle, restored]);
    const refs = async (dir: string) => (await git(['for-each-ref', '--format=%(objectname) %(refname)'], dir)).toString();
    expect(await refs(restored)).toBe(await refs(fixtures.multi));
    expect(done.refCount).toBe((await refs(fixtures.multi)).trim().split('\n').length);
    await expectNoTempDirLeft(done.id);
  });

  it('archives a repository whose default branch is not main', async () => {
    const done = await settled((await submit(http.url('trunk'))).id);
    expect(done.status).toBe('completed');
    const manifest = JSON.parse(
      (await readAll(await store.getObject(done.bucket!, manifestKey(done.prefix!)))).toString(),
    ) as SnapshotManifest;
    expect(manifest.defaultBranch).toBe('refs/heads/trunk');
    expect(done.commit).toBe((await git(['rev-parse', 'trunk'], fixtures.trunk)).toString().trim());
  });

  it('completes an empty repository with no files and says so', async () => {
    const done = await settled((await submit(http.url('empty'))).id);
    expect(done).toMatchObject({ status: 'completed', fileCount: 0, commit: null, refCount: 0 });
    const manifest = JSON.parse(
      (await readAll(await store.getObject(done.bucket!, manifestKey(done.prefix!)))).toString(),
    ) as SnapshotManifest;
    expect(manifest).toMatchObject({ version: 4, empty: true, tree: null, bundle: null });
  });

  it('fails a missing repository with a clear message and leaves no temp dir', async () => {
    const done = await settled((await submit(http.url('does-not-exist'))).id);
    expect(done.status).toBe('failed');
    expect(done.error?.code).toBe('NOT_FOUND');
    expect(done.error?.message).toMatch(/not found/i);
    expect(done.finishedAt).not.toBeNull();
    await expectNoTempDirLeft(done.id);
  });

  it('survives a worker killed with SIGKILL mid-clone: completed once, no temp dir left', async () => {
    const submitted = await submit(slowHttp.url('multi'));
    // Its git runs in a work dir named after the archive: killed then, the run is truly mid-clone.
    await waitFor('the worker to be cloning', async () => ((await processesMentioning(submitted.id)).length > 0 ? true : undefined));
    const worker = apps.find((a) => a.name === 'worker')!;
    await worker.kill();
    apps.splice(apps.indexOf(worker), 1);
    expect(await leftoverDirs(submitted.id)).not.toEqual([]);

    apps.push(await startApp('worker', workerEnv));
    const done = await settled(submitted.id, 120_000);
    expect(done.status).toBe('completed');
    expect(done.attempts).toBeGreaterThanOrEqual(2);
    const manifests = (await store.listAllObjects(done.bucket!, 'snapshots/')).filter((o) => o.name.endsWith('manifest.json'));
    const mine = manifests.filter((o) => o.name.includes(done.id.slice(0, 8)));
    expect(mine).toHaveLength(1);
    await expectNoTempDirLeft(done.id);
  });
});

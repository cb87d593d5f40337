import { cp, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig, loadStackSettings } from '@archiver/config';
import { manifestKey, ObjectStoreRepository } from '@archiver/storage';
import {
  ApiClient,
  AppProcess,
  ArchiveView,
  closeAll,
  createFixtureRepos,
  FixtureRepos,
  GitHttpServerHandle,
  gitText,
  KeycloakTestClient,
  processesMentioning,
  settledArchive,
  startApp,
  startGitHttpServer,
  startStackService,
  stopStackService,
  waitFor,
} from '@archiver/testing';

// Every accepted archive ends `completed` or `failed`, whatever fails meanwhile: the real
// Postgres and Redis of the test stack are stopped and started mid-run, workers are
// stopped mid-clone. Clones are made slow (a latency on every request of the git server)
// so that the faults land while they run.
// An outage, its recovery and the archives' completion take longer than one ordinary test.
jest.setTimeout(300_000);

describe('every accepted archive ends, whatever fails meanwhile', () => {
  const config = loadConfig();
  const stack = loadStackSettings();
  const store = new ObjectStoreRepository(config.minio);
  const keycloak = KeycloakTestClient.fromEnvironment();
  const workDir = path.join(os.tmpdir(), `archiver-faults-${process.pid}`);
  // Short lock and lease so that takeovers happen within a test's time.
  const workerEnv = {
    ARCHIVER_WORK_DIR: workDir,
    WORKER_LOCK_SECONDS: '3',
    WORKER_LEASE_SECONDS: '6',
    CLONE_TIMEOUT_SECONDS: '120',
    WORKER_CONCURRENCY: '2',
  };
  const injectorEnv = { RECONCILE_INTERVAL_SECONDS: '2', INJECTOR_LOCK_SECONDS: '3' };
  const apps = new Set<AppProcess>();
  let scratch: string;
  let fixtures: FixtureRepos;
  let slow: GitHttpServerHandle;
  let fast: GitHttpServerHandle;
  let api: ApiClient;
  let frontendUrl: string;
  let copies = 0;

  const start = async (name: 'frontend' | 'injector' | 'worker', env: Record<string, string> = {}) => {
    const app = await startApp(name, { ...(name === 'worker' ? workerEnv : name === 'injector' ? injectorEnv : {}), ...env });
    apps.add(app);
    return app;
  };
  const stop = async (app: AppProcess) => {
    apps.delete(app);
    await app.stop();
  };
  /** A repository of its own per archive, so its git processes can be told apart by URL. */
  const slowRepo = async () => {
    const name = `faults-${process.pid}-${++copies}`;
    await cp(fixtures.multi, path.join(fixtures.root, `${name}.git`), { recursive: true });
    return { name, url: slow.url(name) };
  };
  /** A repository of `files` small files in one commit, served without latency: storing it is the long part. */
  const manyFilesRepo = async (files: number) => {
    const name = `faults-${process.pid}-many-${++copies}`;
    const work = path.join(scratch, name);
    await mkdir(path.join(work, 'd'), { recursive: true });
    for (let i = 0; i < files; i++) await writeFile(path.join(work, 'd', `f${i}.txt`), `file ${i} of ${name}\n`);
    await gitText(['init', '--quiet', '--initial-branch=main'], work);
    await gitText(['add', '--all'], work);
    await gitText(['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '--quiet', '-m', 'many files'], work);
    await gitText(['clone', '--quiet', '--bare', work, path.join(fixtures.root, `${name}.git`)]);
    return name;
  };
  const waitStatus = (id: string, status: ArchiveView['status'], timeoutMs = 60_000) =>
    waitFor(`archive ${id} to be ${status}`, async () => ((await api.archive(id)).status === status ? true : undefined), timeoutMs);
  /** The archive completed, and its bucket holds exactly one snapshot of it: the recorded one, complete. */
  const expectCompletedOnce = async (done: ArchiveView) => {
    expect({ id: done.id, status: done.status, error: done.error }).toEqual({ id: done.id, status: 'completed', error: null });
    const objects = await store.listAllObjects(done.bucket!, 'snapshots/');
    const prefixes = new Set(
      objects.filter((o) => o.name.includes(done.id.slice(0, 8))).map((o) => o.name.split('/').slice(0, 2).join('/') + '/'),
    );
    expect([...prefixes]).toEqual([done.prefix]);
    expect(objects.some((o) => o.name === manifestKey(done.prefix!))).toBe(true);
  };

  beforeAll(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'archiver-faults-fixtures-'));
    fixtures = await createFixtureRepos(scratch);
    slow = await startGitHttpServer({ root: fixtures.root, latencyMs: 2500 });
    fast = await startGitHttpServer({ root: fixtures.root });
    const frontend = await start('frontend');
    frontendUrl = frontend.url;
    api = new ApiClient(frontend.url, await keycloak.passwordToken(stack.demo.username, stack.demo.password));
  });

  afterAll(async () => {
    try {
      await Promise.all([...apps].map((app) => app.stop()));
      // Whatever a failed test left down.
      for (const service of ['postgres', 'redis', 'minio'] as const) await startStackService(service);
    } finally {
      store.close();
      await closeAll(
        slow?.stop(),
        fast?.stop(),
        scratch ? rm(scratch, { recursive: true, force: true }) : undefined,
        rm(workDir, { recursive: true, force: true }),
      );
    }
  });

  it('a database outage longer than a job’s retries, with archives pending, queued and running: every one completes once it is back', async () => {
    let injector = await start('injector');
    await start('worker');
    const running = await Promise.all([slowRepo(), slowRepo(), slowRepo()].map(async (r) => api.submit((await r).url)));
    // Two run (concurrency 2), the third waits queued; one more stays pending with no injector.
    await waitFor('two archives to run', async () => {
      const views = await Promise.all(running.map((a) => api.archive(a.id)));
      return views.filter((v) => v.status === 'running').length === 2 ? true : undefined;
    });
    await stop(injector);
    const pending = await api.submit((await slowRepo()).url);

    await stopStackService('postgres');
    injector = await start('injector'); // starts into the outage
    // The outage's length is the experiment, so a fixed wait: longer than the clones, the job
    // lock, the run lease and several retry backoffs.
    await sleep(25_000);
    await startStackService('postgres');

    for (const archive of [...running, pending]) await expectCompletedOnce(await settledArchive(api, archive.id, 180_000));
    for (const app of [...apps].filter((a) => a.name !== 'frontend')) await stop(app);
    // Keycloak keeps its data in the same Postgres: leave the stack healthy for the next tests.
    await waitFor(
      'Keycloak to recover from the outage',
      async () => ((await keycloak.passwordToken(stack.demo.username, stack.demo.password)) ? true : undefined),
      90_000,
    );
  });

  it('Redis unreachable for longer than the job lock mid-clone: that run stops and writes nothing; the archive completes once', async () => {
    await start('injector');
    const workers = [await start('worker'), await start('worker')];
    const repo = await slowRepo();
    const archive = await api.submit(repo.url);
    await waitStatus(archive.id, 'running');
    await waitFor('git to be fetching', async () => ((await processesMentioning(repo.name)).length > 0 ? true : undefined));

    await stopStackService('redis');
    // The lock expires after 3 s without renewal; the run must notice and stop its git.
    await waitFor(
      'a worker to stop the job for its lost lock',
      async () => (workers.some((w) => w.output().includes('lost the job')) ? true : undefined),
      20_000,
    );
    await waitFor(
      'the stopped run’s git to be gone',
      async () => ((await processesMentioning(repo.name)).length === 0 ? true : undefined),
      10_000,
    );
    await startStackService('redis');

    const done = await settledArchive(api, archive.id, 120_000);
    await expectCompletedOnce(done);
    expect(done.attempts).toBeGreaterThanOrEqual(2);
    for (const app of [...apps].filter((a) => a.name !== 'frontend')) await stop(app);
  });

  it('SIGTERM of a worker mid-clone: its git is gone within 10 s, and another worker completes the archive once', async () => {
    await start('injector');
    const first = await start('worker');
    const repo = await slowRepo();
    const archive = await api.submit(repo.url);
    await waitFor('git to be fetching', async () => ((await processesMentioning(repo.name)).length > 0 ? true : undefined));
    const second = await start('worker');

    const stopped = Date.now();
    await stop(first);
    await waitFor(
      'the stopped worker’s git to be gone',
      async () => ((await processesMentioning(repo.name)).length === 0 ? true : undefined),
      10_000,
    );
    expect(Date.now() - stopped).toBeLessThan(15_000); // the graceful stop itself did not wait for the clone

    const done = await settledArchive(api, archive.id, 120_000);
    await expectCompletedOnce(done);
    // The worker records the outcome before it logs it: on a loaded machine the line may lag.
    await waitFor('the second worker to log the archive', async () => (second.output().includes(archive.id) ? true : undefined), 10_000);
    for (const app of [...apps].filter((a) => a.name !== 'frontend')) await stop(app);
  });

  it('object storage down mid-clone and mid-upload: each run is postponed, not failed, and the archive completes once it is back', async () => {
    await start('injector');
    // One upload at a time, so that uploading a few thousand files takes long enough to stop MinIO in the middle.
    const worker = await start('worker', { UPLOAD_CONCURRENCY: '1' });
    const health = async () => (await fetch(`${frontendUrl}/health`, { signal: AbortSignal.timeout(10_000) })).status;

    // Mid-clone: the run finds storage gone when it comes to store.
    const repo = await slowRepo();
    const midClone = await api.submit(repo.url);
    await waitFor('git to be fetching', async () => ((await processesMentioning(repo.name)).length > 0 ? true : undefined));
    await stopStackService('minio');
    try {
      expect(await health()).toBe(503);
      await waitFor(
        'the run to be postponed',
        async () => (worker.output().includes('infrastructure unavailable') ? true : undefined),
        150_000,
      );
    } finally {
      await startStackService('minio');
    }
    await expectCompletedOnce(await settledArchive(api, midClone.id, 120_000));

    // Mid-upload: some of its files are stored, its manifest is not. The stop itself takes a
    // moment; should the upload finish within it, the fault missed, and a new repository tries again.
    let landed: { id: string; bucket: string } | undefined;
    for (let attempt = 1; attempt <= 3 && !landed; attempt++) {
      const submitted = await api.submit(fast.url(await manyFilesRepo(3000)));
      const bucket = await waitFor(
        'the first files to be stored',
        async () => {
          const view = await api.archive(submitted.id);
          if (!view.bucket) return undefined;
          return (await store.listAllObjects(view.bucket, 'objects/').catch(() => [])).length > 0 ? view.bucket : undefined;
        },
        120_000,
        50,
      );
      const postponedBefore = worker.output().split('infrastructure unavailable').length;
      await stopStackService('minio');
      try {
        if ((await api.archive(submitted.id)).status !== 'completed') {
          // Not at once: the run first removes what it wrote, and a request MinIO left hanging as it
          // stopped ends only at the client's request timeout (30 s).
          await waitFor(
            'the upload to be postponed',
            async () => (worker.output().split('infrastructure unavailable').length > postponedBefore ? true : undefined),
            150_000,
          );
          landed = { id: submitted.id, bucket };
        }
      } finally {
        await startStackService('minio');
      }
    }
    expect(landed).toBeDefined();
    const done = await settledArchive(api, landed!.id, 180_000);
    await expectCompletedOnce(done);
    expect(done.bucket).toBe(landed!.bucket);
    expect(done.fileCount).toBe(3000);
    expect(await health()).toBe(200);
    for (const app of [...apps].filter((a) => a.name !== 'frontend')) await stop(app);
  }, 600_000);

  it('a failure before the clone starts (the work dir cannot be made) fails the archive with a code and a reason', async () => {
    const file = path.join(scratch, 'not-a-directory');
    await writeFile(file, 'a file where the work dir should be');
    await start('injector');
    await start('worker', { ARCHIVER_WORK_DIR: path.join(file, 'work') });
    const archive = await api.submit((await slowRepo()).url);
    const done = await settledArchive(api, archive.id, 60_000);
    expect(done).toMatchObject({ status: 'failed', error: { code: 'WORK_DIR_FAILED' } });
    expect(done.error?.message).toMatch(/could not create its temporary directory .*ENOTDIR/);
    expect(done.finishedAt).not.toBeNull();
    // No run left a dir behind; the mirror cache (`mirrors/`) of earlier completed visits stays by design.
    expect((await readdir(workDir).catch(() => [] as string[])).filter((name) => name !== 'mirrors')).toEqual([]);
    for (const app of [...apps].filter((a) => a.name !== 'frontend')) await stop(app);
  });
});

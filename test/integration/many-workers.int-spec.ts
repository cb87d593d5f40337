import { cp, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, loadStackSettings } from '@archiver/config';
import { manifestKey, ObjectStoreRepository } from '@archiver/storage';
import {
  ApiClient,
  AppProcess,
  ArchiveView,
  closeAll,
  createFixtureRepos,
  GitHttpServerHandle,
  KeycloakTestClient,
  settledArchive,
  startApp,
  startGitHttpServer,
  waitFor,
} from '@archiver/testing';

// Issue 14 item 3: workers on many hosts. Three worker processes, each with its own work dir
// and host id as on three machines, share one queue: 50 repositories each archived exactly
// once, one worker SIGKILLed mid-job without losing anything. Then the leftovers of the killed
// one: a worker of another host that shares its disk leaves them alone; its own host's next
// worker removes them.
jest.setTimeout(420_000);

const REPOSITORIES = 50;
const HOSTS = ['host_a', 'host_b', 'host_c'] as const;

describe('workers on many hosts', () => {
  const config = loadConfig();
  const stack = loadStackSettings();
  const store = new ObjectStoreRepository(config.minio);
  const keycloak = KeycloakTestClient.fromEnvironment();
  const apps = new Set<AppProcess>();
  let scratch: string;
  let git: GitHttpServerHandle;
  let api: ApiClient;

  const workDir = (host: string) => path.join(scratch, `work-${host}`);
  // Short job lock and run lease, so the killed worker's job moves on within the test.
  const startWorker = async (host: string, dir = workDir(host)) => {
    const worker = await startApp('worker', {
      WORKER_HOST_ID: host,
      ARCHIVER_WORK_DIR: dir,
      WORKER_CONCURRENCY: '2',
      WORKER_LOCK_SECONDS: '3',
      WORKER_LEASE_SECONDS: '6',
    });
    apps.add(worker);
    return worker;
  };
  const runDirs = async (dir: string) => (await readdir(dir).catch(() => [] as string[])).filter((name) => name.startsWith('archive-'));

  beforeAll(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'archiver-many-workers-'));
    const fixtures = await createFixtureRepos(path.join(scratch, 'fixtures'));
    for (let n = 0; n < REPOSITORIES; n++) await cp(fixtures.multi, path.join(fixtures.root, `many-${n}.git`), { recursive: true });
    // Each request waits a little, so that runs overlap and a kill lands mid-job.
    git = await startGitHttpServer({ root: fixtures.root, latencyMs: 300 });
    const frontend = await startApp('frontend');
    apps.add(frontend);
    apps.add(await startApp('injector', { RECONCILE_INTERVAL_SECONDS: '2', INJECTOR_LOCK_SECONDS: '3' }));
    api = new ApiClient(frontend.url, await keycloak.passwordToken(stack.demo.username, stack.demo.password));
    for (const host of HOSTS) await mkdir(workDir(host), { recursive: true });
  });

  afterAll(async () => {
    try {
      await Promise.all([...apps].map((app) => app.stop()));
    } finally {
      store.close();
      await closeAll(git?.stop(), scratch ? rm(scratch, { recursive: true, force: true }) : undefined);
    }
  });

  it('archives 50 repositories with three workers on three hosts, each exactly once, one worker killed mid-job', async () => {
    const workers = new Map<string, AppProcess>();
    for (const host of HOSTS) workers.set(host, await startWorker(host));

    const urls = Array.from({ length: REPOSITORIES }, (_, n) => git.url(`many-${n}.git`));
    const batch = await api.call<{ items: { url: string; archive?: ArchiveView }[] }>('POST', '/api/archives/batch', { json: { urls } });
    expect(batch.status).toBe(202);
    const submitted = batch.body.items.map((item) => item.archive!);
    expect(submitted.filter(Boolean)).toHaveLength(REPOSITORIES);

    // host_b is mid-job when its run dir exists: that is when it dies, as a crash would.
    const [interrupted] = await waitFor('host_b to be running an archive', async () => {
      const dirs = await runDirs(workDir('host_b'));
      return dirs.length > 0 ? dirs : undefined;
    });
    expect(interrupted).toMatch(/^archive-[0-9a-f-]{36}-\d+-[0-9a-f-]{36}-h\.host_b-/);
    const interruptedId = interrupted!.slice('archive-'.length, 'archive-'.length + 36);
    await workers.get('host_b')!.kill();
    apps.delete(workers.get('host_b')!);

    const settled: ArchiveView[] = [];
    for (const archive of submitted) settled.push(await settledArchive(api, archive.id, 360_000));
    expect(settled.filter((a) => a.status !== 'completed').map((a) => [a.url, a.error])).toEqual([]);
    // Exactly once: each bucket holds one snapshot, the recorded one, with its manifest.
    for (const done of settled) {
      const objects = await store.listAllObjects(done.bucket!, 'snapshots/');
      const prefixes = new Set(objects.map((o) => `${o.name.split('/').slice(0, 2).join('/')}/`));
      expect({ id: done.id, prefixes: [...prefixes] }).toEqual({ id: done.id, prefixes: [done.prefix] });
      expect(objects.some((o) => o.name === manifestKey(done.prefix!))).toBe(true);
    }
    expect(settled.find((a) => a.id === interruptedId)?.status).toBe('completed');
    // The survivors did the work between them; each wrote only dirs named for its own host.
    for (const host of ['host_a', 'host_c']) {
      expect(workers.get(host)!.output()).toMatch(/"msg":"archived/);
      for (const name of await runDirs(workDir(host))) expect(name).toContain(`-h.${host}-`);
    }

    // The killed worker's dir is still there. A worker of another host sharing that disk must
    // not take it for dead (its PID means nothing on host_a) ...
    expect(await runDirs(workDir('host_b'))).toContain(interrupted);
    const neighbour = await startWorker('host_a', workDir('host_b'));
    expect(await runDirs(workDir('host_b'))).toContain(interrupted);
    expect(neighbour.output()).not.toMatch(/removed temp dirs of dead workers/);
    // ... while host_b's next worker removes it at start.
    const restarted = await startWorker('host_b');
    await waitFor('host_b to sweep its dead run dir', async () =>
      (await runDirs(workDir('host_b'))).includes(interrupted!) ? undefined : true,
    );
    expect(restarted.output()).toMatch(/removed temp dirs of dead workers/);
  });
});

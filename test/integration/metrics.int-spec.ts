import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, loadStackSettings } from '@archiver/config';
import { PrismaService } from '@archiver/database';
import {
  ApiClient,
  AppProcess,
  closeAll,
  createFixtureRepos,
  GitHttpServerHandle,
  KeycloakTestClient,
  settledArchive,
  startApp,
  startGitHttpServer,
  waitFor,
} from '@archiver/testing';

/** The value of one series of a Prometheus text exposition (labels as written, `app` last). */
function sample(exposition: string, series: string): number | undefined {
  const line = exposition.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function scrape(app: AppProcess, headers: Record<string, string> = {}): Promise<{ status: number; body: string; type: string }> {
  const response = await fetch(`${app.metricsUrl}/metrics`, { headers, signal: AbortSignal.timeout(10_000) });
  return { status: response.status, body: await response.text(), type: response.headers.get('content-type') ?? '' };
}

// Each app's /metrics on the real stack: its own loopback listener, outside Keycloak; the
// values follow what the apps do (an archive submitted, run, completed) and match Postgres.
describe('Prometheus metrics', () => {
  const config = loadConfig();
  const stack = loadStackSettings();
  const prisma = new PrismaService(config);
  const keycloak = KeycloakTestClient.fromEnvironment();
  const apps: Record<'frontend' | 'injector' | 'worker', AppProcess> = {} as never;
  let http: GitHttpServerHandle;
  let api: ApiClient;
  let scratch: string;
  let workDir: string;

  beforeAll(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'archiver-metrics-'));
    workDir = path.join(scratch, 'work');
    const fixtures = await createFixtureRepos(path.join(scratch, 'fixtures'));
    http = await startGitHttpServer({ root: fixtures.root });
    apps.frontend = await startApp('frontend');
    apps.injector = await startApp('injector');
    apps.worker = await startApp('worker', { ARCHIVER_WORK_DIR: workDir });
    api = new ApiClient(apps.frontend.url, await keycloak.passwordToken(stack.demo.username, stack.demo.password));
  });

  afterAll(async () => {
    try {
      await Promise.all(Object.values(apps).map((app) => app.stop()));
    } finally {
      await closeAll(prisma.$disconnect(), http?.stop(), scratch ? rm(scratch, { recursive: true, force: true }) : undefined);
    }
  });

  it('counts an archive through every app, and the state gauges equal the database', async () => {
    const before = {
      changed: sample((await scrape(apps.worker)).body, 'archiver_visits_total{outcome="changed",code="",app="worker"}') ?? 0,
      posts:
        sample(
          (await scrape(apps.frontend)).body,
          'http_requests_total{method="POST",route="/api/archives",status="202",app="frontend"}',
        ) ?? 0,
    };
    const archive = await settledArchive(api, (await api.submit(http.url('trunk'))).id);
    expect(archive.status).toBe('completed');

    const frontend = await scrape(apps.frontend);
    expect(frontend.status).toBe(200);
    expect(frontend.type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(sample(frontend.body, 'http_requests_total{method="POST",route="/api/archives",status="202",app="frontend"}')).toBe(
      before.posts + 1,
    );
    // Route patterns, never ids: the archive's own id is in no label.
    expect(frontend.body).toContain('route="/api/archives/:id"');
    expect(frontend.body).not.toContain(archive.id);
    expect(frontend.body).toMatch(/^process_cpu_seconds_total\{app="frontend"\} \d/m);

    const worker = (await scrape(apps.worker)).body;
    expect(sample(worker, 'archiver_visits_total{outcome="changed",code="",app="worker"}')).toBe(before.changed + 1);
    expect(sample(worker, 'archiver_uploaded_objects_total{app="worker"}')).toBeGreaterThan(0);
    expect(sample(worker, 'archiver_stage_duration_seconds_count{app="worker",stage="run"}')).toBeGreaterThanOrEqual(1);

    // The injector's gauges are read from Postgres at scrape time: equal to a count made now.
    // Other suites may share the stack, so compare counts read around the scrape.
    const count = async (status: string) =>
      Number((await prisma.$queryRaw<{ n: bigint }[]>`SELECT COUNT(*) AS n FROM archive WHERE status = ${status}::"ArchiveStatus"`)[0]!.n);
    const low = await count('completed');
    const injector = (await scrape(apps.injector)).body;
    const high = await count('completed');
    const gauge = sample(injector, 'archiver_archives{status="completed",app="injector"}');
    expect(gauge).toBeGreaterThanOrEqual(low);
    expect(gauge).toBeLessThanOrEqual(high);
    expect(sample(injector, 'archiver_state_read_ok{app="injector"}')).toBe(1);
    expect(sample(injector, 'archiver_queue_jobs{queue="archive",state="completed",app="injector"}')).toBeGreaterThanOrEqual(1);
    expect(injector).toMatch(/^archiver_queue_oldest_waiting_seconds\{queue="archive",app="injector"\} \d/m);
    expect(injector).toMatch(/^archiver_repositories_overdue\{app="injector"\} \d/m);
  });

  it('answers only GET /metrics, and never on the API port', async () => {
    const other = await fetch(`${apps.worker.metricsUrl}/health`);
    expect(other.status).toBe(404);
    expect(await other.text()).toMatch(/GET \/metrics/);
    expect((await fetch(`${apps.worker.metricsUrl}/metrics`, { method: 'POST' })).status).toBe(405);
    // The API port keeps /metrics behind Keycloak like any other unknown route: not served there.
    const onApi = await fetch(`${apps.frontend.url}/metrics`);
    expect(onApi.status).not.toBe(200);
  });

  it('requires the bearer token when METRICS_TOKEN is set, and refuses an open listener off loopback without one', async () => {
    const token = 'metrics-token-for-the-test-0123456789';
    const guarded = await startApp('injector', { METRICS_TOKEN: token });
    try {
      expect((await scrape(guarded)).status).toBe(401);
      expect((await scrape(guarded, { authorization: 'Bearer wrong-token-of-some-length-000000' })).status).toBe(401);
      const ok = await scrape(guarded, { authorization: `Bearer ${token}` });
      expect(ok.status).toBe(200);
      expect(ok.body).toContain('archiver_archives{status="completed",app="injector"}');
      expect(guarded.output()).not.toContain(token);
    } finally {
      await guarded.stop();
    }
    await expect(startApp('worker', { METRICS_HOST: '0.0.0.0' }, 10_000)).rejects.toThrow(/exited with 78[\s\S]*METRICS_TOKEN/);
  });

  it('stops serving metrics when the port is 0', async () => {
    const quiet = await startApp('worker', { WORKER_METRICS_PORT: '0', ARCHIVER_WORK_DIR: workDir });
    try {
      await waitFor('the worker to log that it is up', async () => quiet.output().includes('listening') || undefined, 10_000);
      expect(quiet.output()).not.toContain('metrics listening');
      await expect(fetch(`${quiet.metricsUrl}/metrics`)).rejects.toThrow();
    } finally {
      await quiet.stop();
    }
  });
});

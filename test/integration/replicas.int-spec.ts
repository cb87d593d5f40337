import { cp, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { loadStackSettings } from '@archiver/config';
import {
  ApiClient,
  ArchiveView,
  createFixtureRepos,
  freePort,
  GitHttpServerHandle,
  KeycloakTestClient,
  stackProcesses,
  startGitHttpServer,
  startStackApps,
  stopStackApps,
  tearDown,
  uniqueName,
  waitFor,
} from '@archiver/testing';

const SUBMISSIONS_PER_MINUTE = 5;
const CLIENTS = 4;
const SUBMISSIONS_PER_CLIENT = 50;
/** Submissions answered before one replica is SIGKILLed: the kill lands mid-load. */
const KILL_AFTER = 60;

type Outcome = { url: string; real: boolean; startedAt: number; endedAt: number; status: number | 'connection error'; id?: string };
type ServerStats = Record<string, Record<string, string>>;

const canListen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });

/**
 * A base port B with B+1 and B+2 free, for two replicas. The stack's fixed ones (offset + 3100)
 * lie in the kernel's ephemeral range on the test stacks, where a busy machine's outgoing
 * connections can hold them, so the test picks free ones like every other test's apps.
 */
async function freePairBase(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await freePort();
    if (port < 65535 && (await canListen(port + 1))) return port - 1;
  }
  throw new Error('found no two adjacent free ports on 127.0.0.1');
}

// `make start` with FRONTEND_REPLICAS=2 on the test stack: two frontend processes behind a real
// HAProxy (scripts/stack.sh start-apps, deploy/haproxy), the injector and the worker. Clients
// submit through the balancer while one replica is SIGKILLed; every 202 they got must become an
// archive that finishes, exactly once.
describe('frontend replicas behind HAProxy', () => {
  const stack = loadStackSettings();
  const keycloak = KeycloakTestClient.fromEnvironment();
  const publicUrl = `http://127.0.0.1:${stack.env.FRONTEND_PORT}`;
  let statusUrl: string;
  let http: GitHttpServerHandle;
  let scratch: string;
  let realRepos: string[];
  let metricsBase: number;

  /** A client through the balancer whose token is renewed before the realm's 5 minutes run out. */
  const clientFor = async (roles: string[]) => {
    const user = await keycloak.createUser({ username: uniqueName('replicas'), realmRoles: roles });
    let token = '';
    let fetchedAt = 0;
    return new ApiClient(publicUrl, async () => {
      if (Date.now() - fetchedAt > 60_000) [token, fetchedAt] = [await keycloak.passwordToken(user.username, user.password), Date.now()];
      return token;
    });
  };

  /** HAProxy's per-server statistics (its CSV status page), by server name. */
  const serverStats = async (): Promise<ServerStats> => {
    const csv = await (await fetch(`${statusUrl}/stats;csv`, { signal: AbortSignal.timeout(5000) })).text();
    const [header, ...rows] = csv.trim().split('\n');
    const columns = header.replace(/^# /, '').split(',');
    const stats: ServerStats = {};
    for (const row of rows) {
      const cells = row.split(',');
      const record = Object.fromEntries(columns.map((name, i) => [name, cells[i] ?? '']));
      if (record.pxname === 'frontends' && record.svname !== 'BACKEND') stats[record.svname] = record;
    }
    return stats;
  };

  beforeAll(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'archiver-replicas-'));
    const fixtures = await createFixtureRepos(path.join(scratch, 'fixtures'));
    // Distinct repositories, so no submission is answered with another one's active archive.
    realRepos = [];
    for (let i = 0; i < (CLIENTS * SUBMISSIONS_PER_CLIENT) / 2; i++) {
      await cp(fixtures.trunk, path.join(fixtures.root, `load-${i}.git`), { recursive: true });
      realRepos.push(`load-${i}`);
    }
    http = await startGitHttpServer({ root: fixtures.root });
    await mkdir(path.join(scratch, 'work'));
    await stopStackApps();
    const statusPort = await freePort();
    statusUrl = `http://127.0.0.1:${statusPort}`;
    metricsBase = await freePairBase();
    await startStackApps({
      FRONTEND_REPLICAS: '2',
      FRONTEND_REPLICA_PORT_BASE: String(await freePairBase()),
      FRONTEND_REPLICA_METRICS_PORT_BASE: String(metricsBase),
      HAPROXY_STATUS_PORT: String(statusPort),
      // Free ports for the others too: on stacks whose fixed ports fall in Linux's ephemeral
      // range (test1…test5), another process's outgoing connection may hold one.
      INJECTOR_PORT: String(await freePort()),
      WORKER_PORT: String(await freePort()),
      INJECTOR_METRICS_PORT: String(await freePort()),
      WORKER_METRICS_PORT: String(await freePort()),
      SUBMISSIONS_PER_MINUTE: String(SUBMISSIONS_PER_MINUTE),
      // The load's clients are admins, whose own limit is off; the limit test uses a plain user.
      ADMIN_SUBMISSIONS_PER_MINUTE: '0',
      WORKER_CONCURRENCY: '4',
      ARCHIVER_WORK_DIR: path.join(scratch, 'work'),
    });
  }, 600_000);

  afterAll(() => tearDown({ cleanUp: stopStackApps, close: [() => keycloak.cleanup(), () => http?.stop()], dirs: [scratch] }), 120_000);

  it('tells Prometheus where every replica’s metrics are (the targets file make start writes), each one answering', async () => {
    const state = stack.env.ARCHIVER_STATE_DIR ?? path.resolve(__dirname, '../../.local/state', stack.stack);
    const groups = JSON.parse(await readFile(path.join(state, 'scrape-targets/frontend.json'), 'utf8')) as { targets: string[] }[];
    expect(groups).toEqual([{ targets: [`127.0.0.1:${metricsBase + 1}`, `127.0.0.1:${metricsBase + 2}`] }]);
    for (const target of groups[0]!.targets) {
      const metrics = await fetch(`http://${target}/metrics`, { signal: AbortSignal.timeout(5000) });
      expect({ target, status: metrics.status }).toEqual({ target, status: 200 });
      expect(await metrics.text()).toContain('process_cpu_seconds_total{app="frontend"}');
    }
  });

  it('health-checks both replicas on /health/live and holds one submission rate limit across them', async () => {
    const live = await fetch(`${publicUrl}/health/live`);
    expect({ status: live.status, body: await live.json() }).toEqual({ status: 200, body: { status: 'ok', app: 'frontend' } });
    const before = await serverStats();
    expect(Object.fromEntries(Object.entries(before).map(([name, s]) => [name, s.status]))).toEqual({
      'frontend-1': 'UP',
      'frontend-2': 'UP',
    });

    const client = await clientFor(['archiver-user']);
    const statuses: number[] = [];
    for (let i = 0; i < SUBMISSIONS_PER_MINUTE + 3; i++)
      statuses.push((await client.call('POST', '/api/archives', { json: { url: http.url(`limit-${i}`) } })).status);
    expect(statuses).toEqual([...Array<number>(SUBMISSIONS_PER_MINUTE).fill(202), 429, 429, 429]);

    // Both replicas answered part of them, so the budget is one across the two, not one each.
    const after = await serverStats();
    const answered = (name: string) =>
      ['hrsp_2xx', 'hrsp_4xx'].reduce((sum, column) => sum + Number(after[name][column]) - Number(before[name][column]), 0);
    expect(answered('frontend-1')).toBeGreaterThanOrEqual(2);
    expect(answered('frontend-2')).toBeGreaterThanOrEqual(2);
  }, 120_000);

  it('loses and duplicates no accepted submission when a replica is SIGKILLed mid-load', async () => {
    const clients = await Promise.all(Array.from({ length: CLIENTS }, () => clientFor(['archiver-user', 'archiver-admin'])));
    const victim = (await stackProcesses()).get('frontend-1');
    expect(victim).toEqual(expect.any(Number));
    const outcomes: Outcome[][] = clients.map(() => []);
    let answered = 0;
    let killedAt = 0;
    let downAt = 0;

    const submitAll = async (client: ApiClient, c: number) => {
      for (let i = 0; i < SUBMISSIONS_PER_CLIENT; i++) {
        // Half clone a real repository; half name one the server does not have and fail fast.
        const real = i % 2 === 0;
        const url = real ? http.url(realRepos[(c * SUBMISSIONS_PER_CLIENT) / 2 + i / 2]) : http.url(`nowhere-${c}-${i}`);
        const startedAt = Date.now();
        let status: Outcome['status'];
        let id: string | undefined;
        try {
          const res = await client.call<ArchiveView>('POST', '/api/archives', { json: { url } });
          status = res.status;
          if (res.status === 202) id = res.body.id;
        } catch {
          status = 'connection error';
        }
        outcomes[c].push({ url, real, startedAt, endedAt: Date.now(), status, id });
        answered++;
      }
    };
    const killMidLoad = async () => {
      await waitFor('the load to get going', async () => (answered >= KILL_AFTER ? true : undefined), 300_000, 20);
      process.kill(victim!, 'SIGKILL');
      killedAt = Date.now();
      await waitFor(
        'HAProxy to mark frontend-1 down',
        async () => ((await serverStats())['frontend-1'].status.startsWith('DOWN') ? true : undefined),
        30_000,
        100,
      );
      downAt = Date.now();
    };
    await Promise.all([...clients.map(submitAll), killMidLoad()]);

    const all = outcomes.flat();
    const accepted = all.filter((o) => o.status === 202);
    const failedRequests = all.filter((o) => o.status !== 202);
    // Only what a dying replica can cause: a refused or cut connection, or the balancer's 502/503.
    expect(failedRequests.filter((o) => ![502, 503, 'connection error'].includes(o.status))).toEqual([]);
    const inFailover = all.filter((o) => o.endedAt >= killedAt && o.startedAt <= downAt);
    const report = {
      submissions: all.length,
      accepted: accepted.length,
      failedRequests: failedRequests.map(({ url, status, startedAt }) => ({ url, status, msAfterKill: startedAt - killedAt })),
      errorRate: failedRequests.length / all.length,
      failoverWindowMs: downAt - killedAt,
      requestsInFailoverWindow: inFailover.length,
      errorRateInFailoverWindow: inFailover.length ? inFailover.filter((o) => o.status !== 202).length / inFailover.length : 0,
    };
    await writeFile(path.join(process.cwd(), 'artifacts', 'replicas-failover.json'), JSON.stringify(report, null, 2)).catch(
      () => undefined,
    );
    console.log(`failover through HAProxy: ${JSON.stringify(report)}`);
    // The balancer retries connections the dead replica refused, so only requests in flight at the kill may fail.
    expect(failedRequests.length).toBeLessThanOrEqual(CLIENTS);
    expect(new Set(accepted.map((o) => o.id)).size).toBe(accepted.length);

    // Every accepted submission settles: a real repository completes, a missing one fails with a code.
    const expected = new Map(accepted.map((o) => [o.id!, o]));
    const seen = new Map<string, ArchiveView[]>();
    await waitFor(
      'every accepted archive to finish',
      async () => {
        seen.clear();
        for (const client of clients) {
          const items: ArchiveView[] = [];
          for (let page = 1; ; page++) {
            const res = await client.call<{ items: ArchiveView[]; total: number }>('GET', `/api/archives?page=${page}&pageSize=100`);
            items.push(...res.body.items);
            if (items.length >= res.body.total || res.body.items.length === 0) break;
          }
          for (const item of items) seen.set(item.url, [...(seen.get(item.url) ?? []), item]);
        }
        const open = [...seen.values()].flat().filter((a) => a.status !== 'completed' && a.status !== 'failed');
        return open.length === 0 ? true : undefined;
      },
      600_000,
      2000,
    );
    const byId = new Map([...seen.values()].flat().map((a) => [a.id, a]));
    const settled = [...expected.values()].map((o) => {
      const archive = byId.get(o.id!);
      return { url: o.url, status: archive?.status, code: archive?.error?.code };
    });
    expect(settled.filter((s) => s.status === undefined)).toEqual([]);
    expect(settled.filter((s) => s.url.includes('/load-') && s.status !== 'completed')).toEqual([]);
    expect(settled.filter((s) => s.url.includes('/nowhere-') && !(s.status === 'failed' && s.code))).toEqual([]);
    // Each URL was submitted once; a POST the balancer sent twice would show as a second archive.
    expect([...seen.entries()].filter(([, archives]) => archives.length > 1).map(([url]) => url)).toEqual([]);
  }, 900_000);
});

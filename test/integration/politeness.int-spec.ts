import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { loadConfig, loadStackSettings } from '@archiver/config';
import { PrismaService } from '@archiver/database';
import { QueueName, redisOptions } from '@archiver/queue';
import { ObjectStoreRepository } from '@archiver/storage';
import {
  ApiClient,
  type AppProcess,
  type ArchiveView,
  closeAll,
  createFixtureRepos,
  type FixtureRepos,
  type GiteaClient,
  type GiteaToken,
  type GiteaUser,
  gitWithAuth,
  KeycloakTestClient,
  removeArchivesUnder,
  settledArchive,
  startApp,
  startGitea,
  uniqueName,
  waitFor,
} from '@archiver/testing';

const ROOT = path.resolve(__dirname, '../..');
const MAX_PER_HOST = 2;
const SLOT_LEASE_SECONDS = 3;

interface AccessLine {
  startUs: number;
  endUs: number;
  request: string;
}

/** Gitea's access log (scripts/stack.sh): `<end, UTC µs> <start, unix µs> <host> - <user> "<method> <uri> …" …`. */
async function giteaAccessLog(): Promise<AccessLine[]> {
  const stack = loadStackSettings();
  const state = stack.env.ARCHIVER_STATE_DIR ?? path.join(ROOT, '.local/state', stack.stack);
  const text = await readFile(path.join(state, 'logs/gitea-access.log'), 'utf8').catch(() => '');
  const lines: AccessLine[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\d{4})\/(\d\d)\/(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{6}) (\d+) .*?"([A-Z]+ \S+)/.exec(line);
    if (!m) continue;
    const endMs = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
    lines.push({ startUs: Number(m[8]), endUs: endMs * 1000 + Number(m[7]), request: m[9] });
  }
  return lines;
}

/** Most requests open at one instant (an end at the same µs as a start counts as before it). */
function maxOverlap(lines: readonly AccessLine[]): number {
  const events = lines.flatMap((l) => [
    { at: l.startUs, delta: 1 },
    { at: l.endUs, delta: -1 },
  ]);
  events.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let open = 0;
  let most = 0;
  for (const e of events) most = Math.max(most, (open += e.delta));
  return most;
}

/**
 * A forge that rate-limits: until told to stop, every request gets 429 with `Retry-After`; then
 * requests are passed to the real Gitea. It records when each request came, to check the client waited.
 */
async function startRateLimitingForge(giteaUrl: string, retryAfter: string) {
  const target = new URL(giteaUrl);
  const seen: { at: number; refused: boolean }[] = [];
  let limiting = true;
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    seen.push({ at: Date.now(), refused: limiting });
    if (limiting) return void res.writeHead(429, { 'retry-after': retryAfter, 'content-type': 'text/plain' }).end('slow down\n');
    const upstream = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    stopLimiting: () => (limiting = false),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const metric = async (app: AppProcess, name: string): Promise<number> => {
  const text = await (await fetch(`${app.metricsUrl}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(name))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
};

// Politeness per upstream host against the real Gitea, with two worker processes sharing the
// limit through Redis: never more than MAX_CLONES_PER_HOST requests at once on the forge, a
// killed worker's slot frees after its lease, and a host answering 429 is waited for, not failed.
describe('politeness per upstream host', () => {
  const config = loadConfig();
  const prisma = new PrismaService(config);
  const store = new ObjectStoreRepository(config.minio);
  const connection = redisOptions(config.redis.url, 'producer');
  const redis = new Redis(connection);
  const queues = [new Queue(QueueName.Pending, { connection }), new Queue(QueueName.Archive, { connection })];
  const keycloak = KeycloakTestClient.fromEnvironment();
  const workDir = path.join(os.tmpdir(), `archiver-politeness-${process.pid}`);
  const workerEnv = {
    MAX_CLONES_PER_HOST: String(MAX_PER_HOST),
    HOST_SLOT_LEASE_SECONDS: String(SLOT_LEASE_SECONDS),
    WORKER_CONCURRENCY: '3',
    WORKER_LOCK_SECONDS: '5',
    WORKER_LEASE_SECONDS: '6',
    CLONE_TIMEOUT_SECONDS: '60',
  };
  const apps: AppProcess[] = [];
  let workers: AppProcess[] = [];
  let scratch: string;
  let fixtures: FixtureRepos;
  let gitea: GiteaClient;
  let giteaUrl: string;
  let owner: GiteaUser;
  let token: GiteaToken;
  let api: ApiClient;
  const bases: string[] = [];

  const newRepos = async (count: number): Promise<string[]> => {
    const paths: string[] = [];
    for (let i = 0; i < count; i++) {
      const repo = await gitea.createRepo(owner.username, uniqueName('polite'), { private: false });
      await gitWithAuth(['push', '--quiet', repo.cloneUrl, '+refs/heads/*:refs/heads/*'], fixtures.multi, { token: token.token });
      paths.push(new URL(repo.cloneUrl).pathname);
    }
    return paths;
  };
  // One after another: the user's token is fetched once, not by a burst of logins Keycloak refuses.
  const submitAll = async (urls: readonly string[]): Promise<ArchiveView[]> => {
    const archives: ArchiveView[] = [];
    for (const url of urls) archives.push(await api.submit(url));
    return archives;
  };

  beforeAll(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'archiver-politeness-fixtures-'));
    fixtures = await createFixtureRepos(scratch);
    const forge = await startGitea();
    gitea = forge.client;
    giteaUrl = forge.url;
    bases.push(giteaUrl);
    owner = await gitea.createUser(uniqueName('polite'));
    token = await gitea.createToken(owner, uniqueName('push'));
    const started = await Promise.all([
      startApp('frontend'),
      startApp('injector'),
      startApp('worker', { ...workerEnv, ARCHIVER_WORK_DIR: `${workDir}-a` }),
      startApp('worker', { ...workerEnv, ARCHIVER_WORK_DIR: `${workDir}-b` }),
    ]);
    apps.push(...started);
    workers = started.slice(2);
    const user = await keycloak.createUser({ username: uniqueName('polite'), realmRoles: ['archiver-user'] });
    api = new ApiClient(started[0].url, () => keycloak.passwordToken(user.username, user.password));
  }, 180_000);

  afterAll(async () => {
    try {
      await Promise.all(apps.map((app) => app.stop()));
      if (owner) {
        for (const base of bases) {
          await removeArchivesUnder(`${base}/${owner.username}/`, { prisma, store, queues });
          await prisma.repository.deleteMany({ where: { normalizedUrl: { startsWith: `${base}/${owner.username}/` } } });
        }
      }
    } finally {
      store.close();
      await closeAll(
        ...queues.map((q) => q.close()),
        redis.quit(),
        keycloak.cleanup(),
        prisma.$disconnect(),
        scratch ? rm(scratch, { recursive: true, force: true }) : undefined,
        rm(`${workDir}-a`, { recursive: true, force: true }),
        rm(`${workDir}-b`, { recursive: true, force: true }),
      );
    }
  });

  it(`archives 12 repositories of one forge with two workers, never more than ${MAX_PER_HOST} git requests on it at once`, async () => {
    const paths = await newRepos(12);
    const submitted = await submitAll(paths.map((p) => `${giteaUrl}${p}`));
    const settled = await Promise.all(submitted.map((a) => settledArchive(api, a.id, 240_000)));
    expect(settled.map((a) => a.status)).toEqual(settled.map(() => 'completed'));

    const clones = (await giteaAccessLog()).filter(
      (l) => paths.some((p) => l.request.includes(` ${p}/`)) && /git-upload-pack/.test(l.request),
    );
    // Each archive's preflight, advertisement and pack request reached the forge.
    expect(clones.length).toBeGreaterThanOrEqual(3 * paths.length);
    const overlap = maxOverlap(clones);
    expect(overlap).toBeGreaterThanOrEqual(1);
    expect(overlap).toBeLessThanOrEqual(MAX_PER_HOST);
    // Six worker slots and twelve jobs: the limit, not a lack of work, kept the forge at two.
    const waits = (await Promise.all(workers.map((w) => metric(w, 'archiver_host_slot_waits_total{reason="busy"')))).reduce(
      (a, b) => a + b,
    );
    expect(waits).toBeGreaterThan(0);
  }, 300_000);

  it('waits as long as a forge answering 429 asks, as often as it asks, without failing, while other hosts go on', async () => {
    const forge = await startRateLimitingForge(giteaUrl, '3');
    bases.push(forge.url);
    try {
      const [limitedPath, otherPath] = await newRepos(2);
      const [limited] = await submitAll([`${forge.url}${limitedPath}`]);
      await waitFor('two refusals', async () => (forge.seen.length >= 2 ? true : undefined), 60_000, 50);
      // While the forge keeps refusing, a visit of another host runs and completes.
      const [other] = await submitAll([`${giteaUrl}${otherPath}`]);
      expect(await settledArchive(api, other.id, 90_000)).toMatchObject({ status: 'completed' });
      expect(forge.seen.every((s) => s.refused)).toBe(true);
      // Between its short refused runs it is waiting: queued, not started, no error.
      const waiting = await waitFor(
        'the limited visit between runs',
        async () => {
          const seen = await api.archive(limited.id);
          return seen.status === 'queued' ? seen : undefined;
        },
        15_000,
        100,
      );
      expect(waiting).toMatchObject({ startedAt: null, error: null, attempts: 0 });

      forge.stopLimiting();
      const done = await settledArchive(api, limited.id, 60_000);
      expect(done).toMatchObject({ status: 'completed', error: null });
      // Asked again only once each Retry-After had passed.
      const gaps = forge.seen.slice(1).map((s, i) => s.at - forge.seen[i].at);
      const refusals = forge.seen.filter((s) => s.refused).length;
      expect(gaps.slice(0, refusals).every((gap) => gap >= 3_000)).toBe(true);
      // Refused runs were given back, not counted: one run did the whole visit.
      expect(done.attempts).toBe(1);
      const backoffs = (await Promise.all(workers.map((w) => metric(w, 'archiver_host_backoffs_total{source="retry_after"')))).reduce(
        (a, b) => a + b,
      );
      expect(backoffs).toBe(refusals);
    } finally {
      await forge.close();
    }
  }, 180_000);

  it('frees the slot of a worker killed while cloning after its lease, and the remaining visits complete', async () => {
    const [victim, survivor] = workers;
    const host = new URL(giteaUrl).host;
    const slots = `archiver:host:{${host}}:slots`;
    const paths = await newRepos(6);
    const submitted = await submitAll(paths.map((p) => `${giteaUrl}${p}`));
    const victimToken = await waitFor(
      'the victim worker holding a slot',
      async () => (await redis.zrange(slots, 0, -1)).find((t) => t.includes(`:${victim.child.pid}:`)),
      60_000,
      5,
    ).catch(async (error: Error) => {
      // Say what the victim was doing: a flaky wait here once left nothing to go on.
      const states = await Promise.all(submitted.map(async (a) => (await api.archive(a.id)).status));
      throw new Error(
        `${error.message}; victim exit ${victim.child.exitCode}, slots ${JSON.stringify(await redis.zrange(slots, 0, -1))}, ` +
          `archives ${states.join(',')}; victim's last lines:\n${victim.output().split('\n').slice(-25).join('\n')}`,
        { cause: error },
      );
    });
    await victim.kill();
    const killedAt = Date.now();
    await waitFor(
      'the killed worker’s slot to lapse',
      async () => {
        const [score] = [await redis.zscore(slots, victimToken)];
        const [seconds, micros] = await redis.time();
        const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
        return score === null || Number(score) <= now ? true : undefined;
      },
      (SLOT_LEASE_SECONDS + 2) * 1000,
      100,
    );
    expect(Date.now() - killedAt).toBeLessThanOrEqual((SLOT_LEASE_SECONDS + 2) * 1000);
    const settled = await Promise.all(submitted.map((a) => settledArchive(api, a.id, 180_000)));
    expect(settled.map((a) => a.status)).toEqual(settled.map(() => 'completed'));
    expect(survivor.child.exitCode).toBeNull();
    // Nothing of the dead worker is counted any more.
    expect((await redis.zrange(slots, 0, -1)).filter((t) => t.includes(`:${victim.child.pid}:`))).toEqual([]);
  }, 240_000);
});

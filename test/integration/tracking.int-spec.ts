import { cp, mkdtemp, rename, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { loadConfig } from '@archiver/config';
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
  type GitHttpServerHandle,
  KeycloakTestClient,
  removeArchivesUnder,
  settledArchive,
  startApp,
  startGitHttpServer,
  uniqueName,
  waitFor,
} from '@archiver/testing';

interface RepositoryView {
  id: string;
  state: 'active' | 'paused' | 'disabled';
  stateReason: string | null;
  nextVisitAt: string | null;
  consecutiveFailures: number;
  visits: { items: ArchiveView[]; total: number };
}

// A tracker's story through the REST API only, with the real frontend, injector (scheduler)
// and worker on the test stack, against fixture repositories on loopback: an upstream that
// disappears, is disabled, comes back and is re-enabled two ways; pause and resume; the
// cooldown. Intervals are seconds here (the bounds are settings) so rounds fit in a test.
describe('tracking a repository through the API', () => {
  const config = loadConfig();
  const prisma = new PrismaService(config);
  const store = new ObjectStoreRepository(config.minio);
  const connection = redisOptions(config.redis.url, 'producer');
  const queues = [new Queue(QueueName.Pending, { connection }), new Queue(QueueName.Archive, { connection })];
  const keycloak = KeycloakTestClient.fromEnvironment();
  const workDir = path.join(os.tmpdir(), `archiver-tracking-${process.pid}`);
  const COOLDOWN_S = 5;
  const schedule = {
    SCHEDULER_INTERVAL_SECONDS: '1',
    SCHEDULE_MIN_INTERVAL_SECONDS: '1',
    SCHEDULE_MAX_INTERVAL_SECONDS: '2',
    SCHEDULE_DISABLE_AFTER_FAILURES: '3',
  };
  const apps: AppProcess[] = [];
  let scratch: string;
  let fixtures: FixtureRepos;
  let http: GitHttpServerHandle;
  let api: ApiClient;
  /** A repository tracked all along: its visits show that the scheduler has had passes. */
  let canary: RepositoryView;

  /** A fresh copy of a fixture repository, so this file can move it away and back. */
  const upstream = async (fixture: 'multi' | 'trunk') => {
    const name = uniqueName(fixture);
    const dir = path.join(fixtures.root, `${name}.git`);
    await cp(fixtures[fixture], dir, { recursive: true });
    const gone = `${dir}.moved-away`;
    return { url: http.url(name), disappear: () => rename(dir, gone), reappear: () => rename(gone, dir) };
  };
  const repository = async (id: string) => {
    const response = await api.call<RepositoryView>('GET', `/api/repositories/${id}?visitsPageSize=100`);
    expect(response.status).toBe(200);
    return response.body;
  };
  const patch = async (id: string, json: Record<string, unknown>) => {
    const response = await api.call<RepositoryView>('PATCH', `/api/repositories/${id}`, { json });
    expect(response.status).toBe(200);
    return response.body;
  };
  const track = async (url: string) => {
    const response = await api.call<RepositoryView>('POST', '/api/repositories', { json: { url } });
    expect(response.status).toBe(201);
    return response.body;
  };
  /** The repository once `count` of its visits have finished (newest first). */
  const finishedVisits = (id: string, count: number, timeoutMs = 60_000) =>
    waitFor(
      `${count} finished visits of ${id}`,
      async () => {
        const current = await repository(id);
        return current.visits.items.filter((v) => v.finishedAt).length >= count ? current : undefined;
      },
      timeoutMs,
    );
  const settled = (id: string) =>
    waitFor('no visit under way', async () => {
      const current = await repository(id);
      return current.visits.items.every((v) => v.finishedAt) ? current : undefined;
    });
  const finishedCount = (r: RepositoryView) => r.visits.items.filter((v) => v.finishedAt).length;
  /** Two more visits of the canary: the schedulers have had several passes (1 s apart) since. */
  const severalSchedulerPasses = async () => {
    const before = finishedCount(await repository(canary.id));
    await finishedVisits(canary.id, before + 2);
  };
  /**
   * Makes the upstream answer 404 from the next visit on, with no visit under way that it could
   * cut short (which would fail another way), and waits for the repository to be disabled.
   */
  const disappearUntilDisabled = async (id: string, repo: Awaited<ReturnType<typeof upstream>>) => {
    await patch(id, { state: 'paused' });
    await settled(id);
    await repo.disappear();
    await patch(id, { state: 'active' });
    return waitFor(
      'the repository to be disabled',
      async () => {
        const current = await repository(id);
        return current.state === 'disabled' ? current : undefined;
      },
      60_000,
    );
  };

  beforeAll(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'archiver-tracking-fixtures-'));
    fixtures = await createFixtureRepos(scratch);
    http = await startGitHttpServer({ root: fixtures.root });
    const frontendSettings = { ...schedule, REPOSITORY_VISIT_COOLDOWN_SECONDS: String(COOLDOWN_S) };
    const started = await Promise.all([
      startApp('frontend', frontendSettings),
      startApp('injector', schedule),
      startApp('worker', { ...schedule, ARCHIVER_WORK_DIR: workDir, CLONE_TIMEOUT_SECONDS: '60', WORKER_CONCURRENCY: '4' }),
    ]);
    apps.push(...started);
    const user = await keycloak.createUser({ username: uniqueName('tracker'), realmRoles: ['archiver-user'] });
    // Fetched again after a minute: a token must not expire during the file.
    let token = { value: '', at: 0 };
    api = new ApiClient(started[0].url, async () => {
      if (Date.now() - token.at > 60_000) token = { value: await keycloak.passwordToken(user.username, user.password), at: Date.now() };
      return token.value;
    });
    canary = await track((await upstream('trunk')).url);
  });

  afterAll(async () => {
    try {
      await Promise.all(apps.map((app) => app.stop()));
      if (http) {
        await removeArchivesUnder(`${http.baseUrl}/`, { prisma, store, queues });
        await prisma.repository.deleteMany({ where: { normalizedUrl: { startsWith: `${http.baseUrl}/` } } });
      }
    } finally {
      store.close();
      await closeAll(
        ...queues.map((q) => q.close()),
        keycloak.cleanup(),
        prisma.$disconnect(),
        http?.stop(),
        scratch ? rm(scratch, { recursive: true, force: true }) : undefined,
        rm(workDir, { recursive: true, force: true }),
      );
    }
  });

  it('disables an upstream that starts answering 404 after exactly 3 failed visits, visits it no more, and re-enables it by PATCH', async () => {
    const repo = await upstream('multi');
    const { id } = await track(repo.url);
    const first = await finishedVisits(id, 1);
    expect(first.visits.items.at(-1)).toMatchObject({ status: 'completed', error: null });

    const disabled = await disappearUntilDisabled(id, repo);
    expect(disabled).toMatchObject({ consecutiveFailures: 3, nextVisitAt: null });
    expect(disabled.stateReason).toMatch(/3 visits in a row failed with NOT_FOUND: .*not found/i);
    const failures = disabled.visits.items.filter((v) => v.status === 'failed');
    expect(failures.map((v) => v.error?.code)).toEqual(['NOT_FOUND', 'NOT_FOUND', 'NOT_FOUND']);
    expect(disabled.visits.items.slice(0, 3)).toEqual(failures);
    expect(disabled.visits.items.slice(3).every((v) => v.status === 'completed')).toBe(true);

    await severalSchedulerPasses();
    const later = await repository(id);
    expect(later.visits.items.map((v) => v.id)).toEqual(disabled.visits.items.map((v) => v.id));
    expect(later).toMatchObject({ state: 'disabled', stateReason: disabled.stateReason });

    await repo.reappear();
    expect(await patch(id, { state: 'active' })).toMatchObject({ state: 'active', stateReason: null, consecutiveFailures: 0 });
    const revisited = await finishedVisits(id, disabled.visits.total + 1);
    expect(revisited.visits.items[revisited.visits.items.length - disabled.visits.total - 1]).toMatchObject({
      status: 'completed',
      error: null,
    });
    expect(await repository(id)).toMatchObject({ state: 'active', consecutiveFailures: 0, nextVisitAt: expect.any(String) });
  });

  it('re-enables a disabled repository by a visit asked for (POST …/visits), answering 429 with Retry-After inside the cooldown', async () => {
    const repo = await upstream('trunk');
    const { id } = await track(repo.url);
    await finishedVisits(id, 1);
    await disappearUntilDisabled(id, repo);
    await repo.reappear();

    // Asked again until the cooldown since the last failed visit has passed.
    const tooEarly: Headers[] = [];
    const accepted = await waitFor(
      'the cooldown to pass',
      async () => {
        const response = await api.call<ArchiveView & { error?: { code: string; message: string } }>(
          'POST',
          `/api/repositories/${id}/visits`,
        );
        if (response.status === 202) return response.body;
        expect(response.status).toBe(429);
        tooEarly.push(response.headers);
        return undefined;
      },
      (COOLDOWN_S + 10) * 1000,
      500,
    );
    for (const headers of tooEarly) expect(Number(headers.get('retry-after'))).toBeLessThanOrEqual(COOLDOWN_S);
    expect(await repository(id)).toMatchObject({ state: 'active', stateReason: null, consecutiveFailures: 0 });

    // The visit just queued starts the cooldown again.
    const again = await api.call<{ error: { code: string; message: string } }>('POST', `/api/repositories/${id}/visits`);
    expect(again.status).toBe(429);
    expect(again.body.error).toMatchObject({ code: 'VISIT_COOLDOWN', message: expect.stringMatching(/ask again in \d+ s/) });
    const retryAfter = Number(again.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(COOLDOWN_S);

    expect(await settledArchive(api, accepted.id)).toMatchObject({ status: 'completed', error: null });
    expect(await repository(id)).toMatchObject({ state: 'active', consecutiveFailures: 0 });
  });

  it('visits a paused repository no more while the scheduler runs, and again once resumed', async () => {
    const { id } = await track((await upstream('trunk')).url);
    await finishedVisits(id, 1);

    expect(await patch(id, { state: 'paused' })).toMatchObject({ state: 'paused', stateReason: expect.any(String) });
    // A visit already under way when it was paused may end; none may start after.
    const paused = await settled(id);
    await severalSchedulerPasses();
    expect((await repository(id)).visits.items.map((v) => v.id)).toEqual(paused.visits.items.map((v) => v.id));

    expect(await patch(id, { state: 'active' })).toMatchObject({ state: 'active', stateReason: null });
    const resumed = await finishedVisits(id, paused.visits.total + 1);
    expect(resumed.visits.items[0]).toMatchObject({ status: 'completed', error: null });
  });
});

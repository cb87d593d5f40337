import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { loadConfig, loadStackSettings } from '@archiver/config';
import { ArchiveRepository, PrismaService } from '@archiver/database';
import { QueueName, redisOptions } from '@archiver/queue';
import { bucketNameFor, manifestKey, ObjectStoreRepository, snapshotPrefix } from '@archiver/storage';
import {
  ApiClient,
  type ApiRequestOptions,
  type ArchiveView,
  type FrontendOnly,
  type GitHttpServerHandle,
  KeycloakTestClient,
  startApp,
  startFrontendOnly,
  stopFrontendOnly,
  type TestUser,
  uniqueName,
  waitFor,
} from '@archiver/testing';

// Tracking repositories through the REST API of a real frontend process, against the test stack
// with real tokens. No injector or worker runs: a test moves visits on through the repository
// (and writes snapshot objects to MinIO) as those processes would.

interface RepositoryView {
  id: string;
  url: string;
  normalizedUrl: string;
  state: 'active' | 'paused' | 'disabled';
  stateReason: string | null;
  intervalHours: number;
  pinnedIntervalHours: number | null;
  nextVisitAt: string | null;
  consecutiveFailures: number;
  lastVisit: { archiveId: string; status: string; outcome: string | null; createdAt: string; finishedAt: string | null } | null;
  snapshotCount: number;
  storedBytes: number;
  trackerCount: number;
  existing?: boolean;
  visits?: { items: ArchiveView[]; total: number; page: number; pageSize: number };
}

describe('REST API: tracked repositories', () => {
  const config = loadConfig();
  const stack = loadStackSettings();
  const prisma = new PrismaService(config);
  const archives = new ArchiveRepository(prisma);
  const store = new ObjectStoreRepository(config.minio);
  const pendingQueue = new Queue(QueueName.Pending, { connection: redisOptions(config.redis.url, 'producer') });
  const keycloak = KeycloakTestClient.fromEnvironment();

  let stage: FrontendOnly | undefined;
  let git: GitHttpServerHandle;
  let client: ApiClient;
  const tokens: Record<'demo' | 'admin' | 'alice' | 'bob' | 'norole', string> = {} as never;
  const users: Record<'alice' | 'bob', TestUser> = {} as never;

  const api = <T = RepositoryView>(method: string, route: string, options?: ApiRequestOptions) => client.call<T>(method, route, options);
  const repoUrl = (name: string) => git.url(`${name}-${uniqueName('r')}`);
  const track = (url: string, token: string, extra: Record<string, unknown> = {}) =>
    api('POST', '/api/repositories', { token, json: { url, ...extra } });
  /** A visit as the worker leaves it: finished, and (for the cooldown) created `agoMs` ago. */
  const finishVisit = async (archiveId: string, agoMs = 0) => {
    await pendingQueue.remove(archiveId);
    await archives.markFailed(archiveId, 'NOT_FOUND', 'Repository not found', new Date());
    if (agoMs) await prisma.archive.update({ where: { id: archiveId }, data: { createdAt: new Date(Date.now() - agoMs) } });
  };
  const cooldownMs = config.repositoryVisitCooldownMs;

  beforeAll(async () => {
    stage = await startFrontendOnly(pendingQueue, 'repos');
    ({ git, client } = stage);
    const norole = await keycloak.createUser({ username: uniqueName('norole'), realmRoles: [] });
    [users.alice, users.bob] = await Promise.all(
      ['alice', 'bob'].map((name) => keycloak.createUser({ username: uniqueName(name), realmRoles: ['archiver-user'] })),
    );
    [tokens.demo, tokens.admin, tokens.alice, tokens.bob, tokens.norole] = await Promise.all([
      keycloak.passwordToken(stack.demo.username, stack.demo.password),
      keycloak.passwordToken(stack.admin.username, stack.admin.password),
      keycloak.passwordToken(users.alice.username, users.alice.password),
      keycloak.passwordToken(users.bob.username, users.bob.password),
      keycloak.passwordToken(norole.username, norole.password),
    ]);
  });

  afterAll(() => stopFrontendOnly(stage, { prisma, store, pendingQueue, keycloak }));

  describe('POST /api/repositories', () => {
    it('tracks a repository for the caller, queues its first visit at once and schedules the next', async () => {
      const before = Date.now();
      const response = await track(repoUrl('first'), tokens.alice);

      expect(response.status).toBe(201);
      const repository = response.body;
      expect(repository).toMatchObject({ existing: false, state: 'active', stateReason: null, trackerCount: 1, pinnedIntervalHours: null });
      expect(repository.intervalHours).toBe(24);
      expect(Date.parse(repository.nextVisitAt!)).toBeGreaterThanOrEqual(before + 24 * 3600_000 - 1000);
      expect(repository.lastVisit).toMatchObject({ status: 'pending', outcome: null });
      const job = await pendingQueue.getJob(repository.lastVisit!.archiveId);
      expect(job?.data).toEqual({ archiveId: repository.lastVisit!.archiveId });
      const tracker = await prisma.repositoryTracker.findUnique({
        where: { repositoryId_userSubject: { repositoryId: repository.id, userSubject: users.alice.id } },
      });
      expect(tracker?.userName).toBe(users.alice.username);
    });

    it('answers 200 existing:true, changing nothing, when the caller already tracks it (under any spelling of the URL)', async () => {
      const url = repoUrl('twice');
      const first = (await track(url, tokens.alice)).body;
      await finishVisit(first.lastVisit!.archiveId);

      const again = await track(url.replace(/\.git$/, '/'), tokens.alice, { intervalHours: 2 });

      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ id: first.id, existing: true, trackerCount: 1, pinnedIntervalHours: null });
      expect(await prisma.archive.count({ where: { repositoryId: first.id } })).toBe(1);
    });

    it('shares one repository between two users tracking the same URL, each with their own tracking', async () => {
      const url = repoUrl('shared');
      const byAlice = (await track(url, tokens.alice)).body;
      const byBob = await track(url, tokens.bob);

      expect(byBob.status).toBe(201);
      expect(byBob.body).toMatchObject({ id: byAlice.id, existing: false, trackerCount: 2 });
      expect(await prisma.repository.count({ where: { normalizedUrl: byAlice.normalizedUrl } })).toBe(1);
    });

    it('pins the interval when intervalHours is given', async () => {
      const before = Date.now();
      const response = await track(repoUrl('pinned'), tokens.alice, { intervalHours: 6 });

      expect(response.body).toMatchObject({ intervalHours: 6, pinnedIntervalHours: 6 });
      const next = Date.parse(response.body.nextVisitAt!);
      expect(next).toBeGreaterThanOrEqual(before + 6 * 3600_000 - 1000);
      expect(next).toBeLessThan(before + 7 * 3600_000);
    });

    it.each([
      ['no url', {}, 'INVALID_REQUEST'],
      ['a non-string url', { url: 42 }, 'INVALID_REQUEST'],
      ['an unknown field', { url: 'https://example.org/a.git', interval: 3 }, 'INVALID_REQUEST'],
      ['a too small interval', { url: 'https://example.org/a.git', intervalHours: 0.5 }, 'INVALID_REQUEST'],
      ['a non-numeric interval', { url: 'https://example.org/a.git', intervalHours: '24' }, 'INVALID_REQUEST'],
      ['a non-http scheme', { url: 'ftp://example.org/a.git' }, 'INVALID_URL'],
      ['credentials in the URL', { url: 'https://user:pw@example.org/a.git' }, 'INVALID_URL'],
      ['a private address', { url: 'http://10.1.2.3/a.git' }, 'BLOCKED_BY_POLICY'],
    ])('refuses %s with 400 and records nothing', async (_case, json, code) => {
      const before = await prisma.repository.count();
      const response = await api('POST', '/api/repositories', { token: tokens.alice, json });

      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ error: { code } });
      expect(await prisma.repository.count()).toBe(before);
    });
  });

  describe('authentication and roles', () => {
    const id = randomUUID();
    it.each([
      ['POST', '/api/repositories'],
      ['GET', '/api/repositories'],
      ['GET', `/api/repositories/${id}`],
      ['PATCH', `/api/repositories/${id}`],
      ['POST', `/api/repositories/${id}/visits`],
      ['DELETE', `/api/repositories/${id}`],
    ])('%s %s answers 401 without a token and 403 without the role archiver-user', async (method, route) => {
      const json = method === 'GET' || method === 'DELETE' ? undefined : { url: 'https://example.org/a.git' };
      expect((await api(method, route, { token: null, json })).status).toBe(401);
      expect((await api(method, route, { token: tokens.norole, json })).status).toBe(403);
    });
  });

  describe('GET /api/repositories', () => {
    let lister: TestUser;
    let listerToken: string;
    const ids: string[] = [];

    beforeAll(async () => {
      lister = await keycloak.createUser({ username: uniqueName('lister'), realmRoles: ['archiver-user'] });
      listerToken = await keycloak.passwordToken(lister.username, lister.password);
      for (const name of ['list-alpha', 'list-beta', 'list-gamma']) ids.push((await track(repoUrl(name), listerToken)).body.id);
      await api('PATCH', `/api/repositories/${ids[1]}`, { token: listerToken, json: { state: 'paused' } });
    });

    it('lists only the repositories the caller tracks, newest first, paged, with their last visit and counts', async () => {
      const pages = await Promise.all(
        [1, 2].map((page) =>
          api<{ items: RepositoryView[]; total: number }>('GET', `/api/repositories?page=${page}&pageSize=2`, { token: listerToken }),
        ),
      );

      expect(pages.map((p) => p.body.total)).toEqual([3, 3]);
      expect(pages.flatMap((p) => p.body.items.map((r) => r.id))).toEqual([...ids].reverse());
      expect(pages[0].body.items[0]).toMatchObject({ lastVisit: { status: 'pending' }, snapshotCount: 0, storedBytes: 0, trackerCount: 1 });
      const bobs = await api<{ items: RepositoryView[] }>('GET', '/api/repositories?pageSize=100', { token: tokens.bob });
      expect(bobs.body.items.map((r) => r.id)).not.toEqual(expect.arrayContaining([ids[0]]));
    });

    it('filters by state and by a URL substring', async () => {
      const paused = await api<{ items: RepositoryView[]; total: number }>('GET', '/api/repositories?state=paused', { token: listerToken });
      expect(paused.body.items.map((r) => r.id)).toEqual([ids[1]]);
      expect(paused.body.items[0]).toMatchObject({ state: 'paused', stateReason: expect.stringContaining(lister.username) });

      const gamma = await api<{ items: RepositoryView[] }>('GET', '/api/repositories?q=LIST-GAMMA', { token: listerToken });
      expect(gamma.body.items.map((r) => r.id)).toEqual([ids[2]]);
      expect((await api<{ total: number }>('GET', '/api/repositories?q=%25', { token: listerToken })).body.total).toBe(0);
    });

    it('shows archiver-admin everyone’s repositories', async () => {
      const all = await api<{ items: RepositoryView[] }>('GET', `/api/repositories?q=${encodeURIComponent('list-')}&pageSize=100`, {
        token: tokens.admin,
      });
      expect(all.body.items.map((r) => r.id)).toEqual(expect.arrayContaining(ids));
    });

    it.each(['state=gone', 'page=0', 'pageSize=101', 'page=x', 'page=1&page=2'])('refuses ?%s with 400 INVALID_REQUEST', async (query) => {
      const response = await api('GET', `/api/repositories?${query}`, { token: listerToken });
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ error: { code: 'INVALID_REQUEST' } });
    });
  });

  describe('GET /api/repositories/:id', () => {
    it('shows the repository and its visits newest first, paged', async () => {
      const repository = (await track(repoUrl('detail'), tokens.alice)).body;
      const visitIds = [repository.lastVisit!.archiveId];
      await finishVisit(visitIds[0], cooldownMs + 60_000);
      visitIds.push((await api<ArchiveView>('POST', `/api/repositories/${repository.id}/visits`, { token: tokens.alice })).body.id);

      const pages = await Promise.all(
        [1, 2].map((page) => api('GET', `/api/repositories/${repository.id}?visitsPage=${page}&visitsPageSize=1`, { token: tokens.alice })),
      );

      expect(pages.map((p) => p.status)).toEqual([200, 200]);
      expect(pages[0].body).toMatchObject({ id: repository.id, visits: { total: 2, page: 1, pageSize: 1 } });
      expect(pages.flatMap((p) => p.body.visits!.items.map((v) => v.id))).toEqual([...visitIds].reverse());
      expect((await api('GET', `/api/repositories/${repository.id}`, { token: tokens.admin })).status).toBe(200);
    });

    it.each([
      ['a repository the caller does not track', async () => (await track(repoUrl('theirs'), tokens.alice)).body.id],
      ['an unknown id', async () => randomUUID()],
      ['a malformed id', async () => 'not-a-uuid'],
    ])('answers 404 NOT_FOUND for %s', async (_case, idOf) => {
      const response = await api('GET', `/api/repositories/${await idOf()}`, { token: tokens.bob });
      expect(response.status).toBe(404);
      expect(response.body).toMatchObject({ error: { code: 'NOT_FOUND' } });
    });
  });

  describe('PATCH /api/repositories/:id', () => {
    it('pauses and resumes', async () => {
      const { id } = (await track(repoUrl('pause'), tokens.alice)).body;

      const paused = await api('PATCH', `/api/repositories/${id}`, { token: tokens.alice, json: { state: 'paused' } });
      expect(paused.status).toBe(200);
      expect(paused.body).toMatchObject({ state: 'paused', stateReason: expect.any(String) });

      const resumed = await api('PATCH', `/api/repositories/${id}`, { token: tokens.alice, json: { state: 'active' } });
      expect(resumed.body).toMatchObject({ state: 'active', stateReason: null });
      expect(resumed.body.nextVisitAt).not.toBeNull();
    });

    it('pins and unpins the interval', async () => {
      const { id } = (await track(repoUrl('pin'), tokens.alice)).body;

      const pinned = await api('PATCH', `/api/repositories/${id}`, { token: tokens.alice, json: { intervalHours: 3 } });
      expect(pinned.body).toMatchObject({ intervalHours: 3, pinnedIntervalHours: 3 });
      expect(Date.parse(pinned.body.nextVisitAt!)).toBeLessThan(Date.now() + 3 * 3600_000 + 1000);

      const unpinned = await api('PATCH', `/api/repositories/${id}`, { token: tokens.alice, json: { intervalHours: null } });
      expect(unpinned.body).toMatchObject({ intervalHours: 24, pinnedIntervalHours: null });
    });

    it('re-enables a disabled repository: active, reason and failures cleared, a visit due now', async () => {
      const { id } = (await track(repoUrl('disabled'), tokens.alice)).body;
      await prisma.repository.update({
        where: { id },
        data: { state: 'disabled', stateReason: 'gone: 404', consecutiveFailures: 7, nextVisitAt: null },
      });

      const before = Date.now();
      const response = await api('PATCH', `/api/repositories/${id}`, { token: tokens.alice, json: { state: 'active' } });

      expect(response.body).toMatchObject({ state: 'active', stateReason: null, consecutiveFailures: 0 });
      expect(Date.parse(response.body.nextVisitAt!)).toBeGreaterThanOrEqual(before - 1000);
      expect(Date.parse(response.body.nextVisitAt!)).toBeLessThanOrEqual(Date.now() + 1000);
    });

    it.each([[{}], [{ state: 'disabled' }], [{ intervalHours: 0 }], [{ intervalHours: 'often' }], [{ state: 'paused', color: 'red' }]])(
      'refuses %j with 400 INVALID_REQUEST',
      async (json) => {
        const { id } = (await track(repoUrl('bad-patch'), tokens.alice)).body;
        const response = await api('PATCH', `/api/repositories/${id}`, { token: tokens.alice, json });
        expect(response.status).toBe(400);
        expect(response.body).toMatchObject({ error: { code: 'INVALID_REQUEST' } });
      },
    );

    it('answers 404 to someone who does not track it', async () => {
      const { id } = (await track(repoUrl('patch-theirs'), tokens.alice)).body;
      expect((await api('PATCH', `/api/repositories/${id}`, { token: tokens.bob, json: { state: 'paused' } })).status).toBe(404);
      expect((await prisma.repository.findUnique({ where: { id } }))?.state).toBe('active');
    });
  });

  describe('POST /api/repositories/:id/visits', () => {
    it('answers 429 with Retry-After inside the cooldown, and 202 with a queued visit after it', async () => {
      const repository = (await track(repoUrl('cooldown'), tokens.alice)).body;
      await finishVisit(repository.lastVisit!.archiveId);

      const early = await api('POST', `/api/repositories/${repository.id}/visits`, { token: tokens.alice });
      expect(early.status).toBe(429);
      expect(early.body).toMatchObject({ error: { code: 'VISIT_COOLDOWN' } });
      const retryAfter = Number(early.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(cooldownMs / 1000 - 30);
      expect(retryAfter).toBeLessThanOrEqual(cooldownMs / 1000);

      await prisma.archive.update({
        where: { id: repository.lastVisit!.archiveId },
        data: { createdAt: new Date(Date.now() - cooldownMs - 1000) },
      });
      const visit = await api<ArchiveView>('POST', `/api/repositories/${repository.id}/visits`, { token: tokens.alice });
      expect(visit.status).toBe(202);
      expect(visit.body).toMatchObject({ status: 'pending', normalizedUrl: repository.normalizedUrl, requestedBy: users.alice.id });
      expect((await pendingQueue.getJob(visit.body.id))?.data).toEqual({ archiveId: visit.body.id });
    });

    it('re-enables a disabled repository', async () => {
      const repository = (await track(repoUrl('visit-disabled'), tokens.alice)).body;
      await finishVisit(repository.lastVisit!.archiveId, cooldownMs + 1000);
      await prisma.repository.update({
        where: { id: repository.id },
        data: { state: 'disabled', stateReason: 'failing', consecutiveFailures: 5 },
      });

      expect((await api('POST', `/api/repositories/${repository.id}/visits`, { token: tokens.alice })).status).toBe(202);
      expect(await prisma.repository.findUnique({ where: { id: repository.id } })).toMatchObject({
        state: 'active',
        stateReason: null,
        consecutiveFailures: 0,
      });
    });

    it('answers 404 to someone who does not track it, queueing nothing', async () => {
      const repository = (await track(repoUrl('visit-theirs'), tokens.alice)).body;
      expect((await api('POST', `/api/repositories/${repository.id}/visits`, { token: tokens.bob })).status).toBe(404);
      expect(await prisma.archive.count({ where: { repositoryId: repository.id } })).toBe(1);
    });
  });

  describe('DELETE /api/repositories/:id', () => {
    it('stops the caller tracking it; the other tracker keeps it scheduled; the last one unschedules it', async () => {
      const url = repoUrl('untrack');
      const { id } = (await track(url, tokens.alice)).body;
      await track(url, tokens.bob);

      const gone = await api('DELETE', `/api/repositories/${id}`, { token: tokens.alice });
      expect(gone.status).toBe(204);
      expect((await api('GET', `/api/repositories/${id}`, { token: tokens.alice })).status).toBe(404);
      expect((await api('GET', `/api/repositories/${id}`, { token: tokens.bob })).body).toMatchObject({
        trackerCount: 1,
        nextVisitAt: expect.any(String),
      });

      expect((await api('DELETE', `/api/repositories/${id}`, { token: tokens.bob })).status).toBe(204);
      expect(await prisma.repository.findUnique({ where: { id } })).toMatchObject({ nextVisitAt: null });
      expect(await prisma.archive.count({ where: { repositoryId: id } })).toBeGreaterThan(0);
    });

    it('refuses all=true and purge=true to non-admins (403) and unknown flags (400)', async () => {
      const { id } = (await track(repoUrl('untrack-flags'), tokens.alice)).body;
      expect((await api('DELETE', `/api/repositories/${id}?all=true`, { token: tokens.alice })).status).toBe(403);
      expect((await api('DELETE', `/api/repositories/${id}?purge=true`, { token: tokens.alice })).status).toBe(403);
      expect((await api('DELETE', `/api/repositories/${id}?all=yes`, { token: tokens.alice })).status).toBe(400);
      expect(await prisma.repositoryTracker.count({ where: { repositoryId: id } })).toBe(1);
    });

    it('lets an admin stop everyone tracking it (all=true), and answers 409 NOT_TRACKED without it', async () => {
      const url = repoUrl('untrack-all');
      const { id } = (await track(url, tokens.alice)).body;
      await track(url, tokens.bob);

      const conflict = await api('DELETE', `/api/repositories/${id}`, { token: tokens.admin });
      expect(conflict.status).toBe(409);
      expect(conflict.body).toMatchObject({ error: { code: 'NOT_TRACKED' } });

      expect((await api('DELETE', `/api/repositories/${id}?all=true`, { token: tokens.admin })).status).toBe(204);
      expect(await prisma.repositoryTracker.count({ where: { repositoryId: id } })).toBe(0);
      expect(await prisma.repository.findUnique({ where: { id } })).toMatchObject({ nextVisitAt: null });
    });

    it('purges (admin): 409 while a visit is active, then removes snapshots, visits and the repository', async () => {
      const repository = (await track(repoUrl('purge'), tokens.alice)).body;
      const firstVisit = repository.lastVisit!.archiveId;

      const busy = await api('DELETE', `/api/repositories/${repository.id}?purge=true`, { token: tokens.admin });
      expect(busy.status).toBe(409);
      expect(busy.body).toMatchObject({ error: { code: 'ARCHIVE_ACTIVE' } });

      // Complete the first visit with a snapshot in MinIO, as a worker would; fail a second one.
      await pendingQueue.remove(firstVisit);
      const bucket = bucketNameFor(repository.normalizedUrl);
      const prefix = snapshotPrefix(new Date(), firstVisit);
      await archives.markQueued(firstVisit, new Date());
      const runId = randomUUID();
      await archives.claimRun(firstVisit, runId, 60_000, new Date());
      await archives.setSnapshotLocation(firstVisit, runId, bucket, prefix);
      await store.ensureBucket(bucket);
      await store.putBuffer(bucket, manifestKey(prefix), Buffer.from('{}'));
      await archives.markCompleted(firstVisit, runId, { commit: null, refCount: 0, fileCount: 1, byteCount: 2n }, new Date());
      await prisma.archive.update({ where: { id: firstVisit }, data: { createdAt: new Date(Date.now() - cooldownMs - 1000) } });
      const second = (await api<ArchiveView>('POST', `/api/repositories/${repository.id}/visits`, { token: tokens.alice })).body;
      await finishVisit(second.id);
      expect((await api('GET', `/api/repositories/${repository.id}`, { token: tokens.alice })).body).toMatchObject({
        snapshotCount: 1,
        storedBytes: 2,
      });

      // Accepted at once; a worker removes everything (this file runs none until now: the job waits for one).
      const accepted = await api('DELETE', `/api/repositories/${repository.id}?purge=true`, { token: tokens.admin });
      expect([accepted.status, accepted.body]).toEqual([202, { repositoryId: repository.id, status: 'purging' }]);
      expect(await prisma.repositoryTracker.count({ where: { repositoryId: repository.id } })).toBe(0);
      const worker = await startApp('worker', { ARCHIVER_WORK_DIR: path.join(tmpdir(), `archiver-purge-${process.pid}`) });
      try {
        await waitFor('the purge job to remove the repository', async () =>
          (await prisma.repository.findUnique({ where: { id: repository.id } })) === null ? true : undefined,
        );
      } finally {
        await worker.stop();
      }
      expect(worker.output()).toContain('"msg":"purged repository"');
      expect(await prisma.archive.count({ where: { id: { in: [firstVisit, second.id] } } })).toBe(0);
      expect(await store.bucketExists(bucket)).toBe(false);
      expect((await api('GET', `/api/repositories/${repository.id}`, { token: tokens.admin })).status).toBe(404);
    });
  });
});

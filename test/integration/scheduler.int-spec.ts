import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '@archiver/config';
import { ArchiveRecord, ArchiveRepository, PrismaService, TrackedRepositoryRepository, VisitResult } from '@archiver/database';
import { normalizeRepositoryUrl } from '@archiver/git';
import {
  AppProcess,
  closeAll,
  createFixtureRepos,
  FixtureRepos,
  GitHttpServerHandle,
  startApp,
  startGitHttpServer,
  waitFor,
} from '@archiver/testing';

// The scheduler on the real stack: two injectors claim due repositories from Postgres, the
// worker visits them against fixture repositories on loopback and records each outcome.
// Intervals are seconds here (the bounds are settings) so several rounds fit in a test.
describe('scheduler of tracked repositories', () => {
  const config = loadConfig();
  const prisma = new PrismaService(config);
  const repositories = new TrackedRepositoryRepository(prisma);
  const workDir = path.join(os.tmpdir(), `archiver-scheduler-${process.pid}`);
  const MAX_INTERVAL_S = 2;
  const TICK_S = 1;
  const schedule = {
    SCHEDULER_INTERVAL_SECONDS: String(TICK_S),
    SCHEDULE_MIN_INTERVAL_SECONDS: '1',
    SCHEDULE_MAX_INTERVAL_SECONDS: String(MAX_INTERVAL_S),
    SCHEDULE_DISABLE_AFTER_FAILURES: '3',
  };
  const apps: AppProcess[] = [];
  let fixtures: FixtureRepos;
  let http: GitHttpServerHandle;
  let scratch: string;

  /** A repository of the fixture server tracked by someone, in `state`, due now. */
  const trackedRepository = async (name: string, state: 'active' | 'paused' = 'active') => {
    const { url, normalizedUrl } = normalizeRepositoryUrl(http.url(name));
    const repository = await repositories.upsertForUrl(url, normalizedUrl);
    await repositories.track(repository.id, 'scheduler-test-user', 'scheduler test');
    await prisma.repository.update({ where: { id: repository.id }, data: { state, nextVisitAt: new Date() } });
    return repository;
  };
  const visitsOf = (repositoryId: string): Promise<ArchiveRecord[]> =>
    prisma.archive.findMany({ where: { repositoryId }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
  const finishedVisits = async (repositoryId: string, count: number) => {
    const visits = await visitsOf(repositoryId);
    return visits.filter((v) => v.finishedAt).length >= count ? visits : undefined;
  };

  beforeAll(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'archiver-scheduler-fixtures-'));
    fixtures = await createFixtureRepos(scratch);
    http = await startGitHttpServer({ root: fixtures.root });
    apps.push(
      ...(await Promise.all([
        startApp('injector', schedule),
        startApp('injector', schedule),
        startApp('worker', { ...schedule, ARCHIVER_WORK_DIR: workDir, CLONE_TIMEOUT_SECONDS: '60', WORKER_CONCURRENCY: '4' }),
      ])),
    );
  });

  afterAll(async () => {
    try {
      await Promise.all(apps.map((app) => app.stop()));
      // Everything this file made lives on its own fixture server's origin.
      const where = { normalizedUrl: { startsWith: normalizeRepositoryUrl(http.url('x')).normalizedUrl.replace(/x$/, '') } };
      await prisma.archive.deleteMany({ where });
      await prisma.repository.deleteMany({ where });
    } finally {
      await prisma.$disconnect();
      await closeAll(
        http?.stop(),
        scratch ? rm(scratch, { recursive: true, force: true }) : undefined,
        rm(workDir, { recursive: true, force: true }),
      );
    }
  });

  it('visits a due tracked repository, requested by its tracker, and schedules the next visit from the outcome', async () => {
    const repository = await trackedRepository('multi');
    const [visit] = await waitFor('the first visit to complete', () => finishedVisits(repository.id, 1), 60_000);
    expect(visit).toMatchObject({ status: 'completed', outcome: 'changed', requestedBy: 'scheduler-test-user', url: repository.url });
    const after = await repositories.findById(repository.id);
    expect(after).toMatchObject({
      state: 'active',
      consecutiveFailures: 0,
      lastSuccessAt: expect.any(Date),
      lastChangeAt: expect.any(Date),
    });
    expect(after!.lastVisitAt!.getTime()).toBeGreaterThanOrEqual(visit!.createdAt.getTime());
    // A changed visit halves the interval (the default day), within the bounds.
    expect(after!.intervalSeconds).toBe(MAX_INTERVAL_S);
    expect(after!.nextVisitAt!.getTime()).toBeGreaterThan(after!.lastVisitAt!.getTime());
  });

  it('with two injectors, never gives a repository two visits at once and skips no due visit, over several rounds', async () => {
    const tracked = await Promise.all(['empty', 'trunk'].map((name) => trackedRepository(name)));
    const ROUNDS = 4;
    for (const repository of tracked) {
      const visits = await waitFor(`${ROUNDS} visits of ${repository.url}`, () => finishedVisits(repository.id, ROUNDS), 90_000);
      // The newest visit may be under way; every finished one succeeded.
      const finished = visits.filter((v) => v.finishedAt);
      expect(finished.map((v) => v.error ?? v.status)).toEqual(finished.map(() => 'completed'));
      for (let i = 1; i < visits.length; i++) {
        const previous = visits[i - 1]!;
        const current = visits[i]!;
        // Never two at once: each visit starts after the one before it ended.
        expect(current.createdAt.getTime()).toBeGreaterThanOrEqual(previous.finishedAt!.getTime());
        if (!current.finishedAt) continue;
        // None skipped: the next visit comes within the longest interval (+10% jitter), one
        // scheduler tick and slack for a loaded machine — not an interval later or never.
        expect(current.createdAt.getTime() - previous.finishedAt!.getTime()).toBeLessThan((MAX_INTERVAL_S * 1.1 + TICK_S + 3) * 1000);
      }
    }
  });

  it('disables a repository whose upstream answers 404 after 3 visits in a row, with the reason', async () => {
    const repository = await trackedRepository('does-not-exist');
    const disabled = await waitFor(
      'the repository to be disabled',
      async () => {
        const current = await repositories.findById(repository.id);
        return current?.state === 'disabled' ? current : undefined;
      },
      60_000,
    );
    expect(disabled).toMatchObject({ consecutiveFailures: 3, nextVisitAt: null, lastSuccessAt: null });
    expect(disabled.stateReason).toMatch(/3 visits in a row failed with NOT_FOUND: .*not found/i);
    const visits = await visitsOf(repository.id);
    expect(visits.map((v) => [v.status, v.errorCode])).toEqual(Array(3).fill(['failed', 'NOT_FOUND']));
  });

  it('does not visit a paused repository while it visits an active one', async () => {
    const paused = await trackedRepository('multi', 'paused');
    const active = await trackedRepository('trunk');
    // A visit already under way when it was paused may end; none may start after.
    const settled = await waitFor('the paused repository to have no visit under way', async () => {
      const visits = await visitsOf(paused.id);
      return visits.every((v) => v.finishedAt) ? visits : undefined;
    });
    // By the time the active one has been visited twice more, the schedulers had several
    // passes in which they could have taken the paused one, which is due.
    const before = (await visitsOf(active.id)).filter((v) => v.finishedAt).length;
    await waitFor('two more visits of the active repository', () => finishedVisits(active.id, before + 2), 60_000);
    expect((await visitsOf(paused.id)).map((v) => v.id)).toEqual(settled.map((v) => v.id));
  });
});

// The statements under the scheduler, on the real Postgres, with no app running.
describe('scheduling statements on the real Postgres', () => {
  const config = loadConfig();
  const prisma = new PrismaService(config);
  const repositories = new TrackedRepositoryRepository(prisma);
  const archives = new ArchiveRepository(prisma);
  const policy = { minIntervalSeconds: 60, maxIntervalSeconds: 3600, disableAfterFailures: 3 };
  const host = `https://scheduler-db-${randomUUID()}.example.org`;
  const where = { normalizedUrl: { startsWith: host } };
  let seq = 0;

  const repository = async (options: { trackers?: string[]; state?: 'active' | 'paused' | 'disabled'; due?: boolean } = {}) => {
    const name = `r${seq++}`;
    const created = await repositories.upsertForUrl(`${host}/${name}.git`, `${host}/${name}`);
    for (const subject of options.trackers ?? ['first-tracker']) await repositories.track(created.id, subject, `${subject} name`);
    const nextVisitAt = options.due === false ? new Date(Date.now() + 3600_000) : new Date(Date.now() - 1000);
    return prisma.repository.update({ where: { id: created.id }, data: { state: options.state ?? 'active', nextVisitAt } });
  };
  /** One finished visit of `repositoryId` as the worker leaves it, then its outcome recorded. */
  const visit = async (repositoryId: string, result: VisitResult) => {
    const repo = (await repositories.findById(repositoryId))!;
    const { archive } = await archives.createOrFindActive({
      url: repo.url,
      normalizedUrl: repo.normalizedUrl,
      requestedBy: `visitor-${seq++}`,
    });
    await prisma.archive.update({
      where: { id: archive.id },
      data:
        result.kind === 'completed'
          ? { status: 'completed', outcome: result.outcome, finishedAt: new Date() }
          : { status: 'failed', errorCode: result.code, error: result.message, finishedAt: new Date() },
    });
    return repositories.recordVisitOutcome(repositoryId, result, policy);
  };
  const notFound: VisitResult = { kind: 'failed', code: 'NOT_FOUND', message: 'Repository not found' };

  afterAll(async () => {
    try {
      await prisma.archive.deleteMany({ where });
      await prisma.repository.deleteMany({ where });
    } finally {
      await prisma.$disconnect();
    }
  });

  it('claims each due active repository exactly once under concurrent schedulers, and nothing else', async () => {
    const due = await Promise.all(Array.from({ length: 12 }, () => repository()));
    const untrackedDue = await repository({ trackers: [] });
    const skipped = await Promise.all([
      repository({ state: 'paused' }),
      repository({ state: 'disabled' }),
      repository({ due: false }),
      repository().then(async (busy) => {
        await archives.createOrFindActive({ url: busy.url, normalizedUrl: busy.normalizedUrl, requestedBy: 'someone' });
        return busy;
      }),
    ]);
    const mine = (visits: ArchiveRecord[]) => visits.filter((v) => v.normalizedUrl.startsWith(host));
    // Every caller goes for the same rows at once, in small and whole batches; other files'
    // due rows may be claimed too.
    const claimed = await Promise.all(Array.from({ length: 12 }, (_, i) => archives.createScheduledVisits(i % 2 ? 3 : 100, 'scheduler')));
    const visits = mine(claimed.flat());
    expect(visits.map((v) => v.repositoryId).sort()).toEqual([...due, untrackedDue].map((r) => r.id).sort());
    expect(visits.every((v) => v.status === 'pending')).toBe(true);
    const byRepository = new Map(visits.map((v) => [v.repositoryId, v]));
    expect(byRepository.get(due[0]!.id)).toMatchObject({ requestedBy: 'first-tracker', requestedByName: 'first-tracker name' });
    expect(byRepository.get(untrackedDue.id)).toMatchObject({ requestedBy: 'scheduler', requestedByName: 'scheduler' });
    for (const r of skipped) expect(byRepository.has(r.id)).toBe(false);
    // The claim moved nextVisitAt on, so a repository is not claimed again while its visit runs.
    expect(mine(await archives.createScheduledVisits(100, 'scheduler'))).toEqual([]);
    const after = await repositories.findById(due[0]!.id);
    expect(after!.nextVisitAt!.getTime()).toBeGreaterThan(Date.now() + 3600_000);
  });

  it('skips a repository another scheduler holds instead of waiting for it, and claims it once released', async () => {
    const held = await repository();
    const free = await repository();
    const claimedWhileHeld = await prisma.$transaction(
      async (tx) => {
        await tx.$queryRaw`SELECT id FROM repository WHERE id = ${held.id}::uuid FOR UPDATE`;
        return (await archives.createScheduledVisits(100, 'scheduler')).map((v) => v.repositoryId);
      },
      { timeout: 10_000 },
    );
    expect(claimedWhileHeld).toContain(free.id);
    expect(claimedWhileHeld).not.toContain(held.id);
    expect((await archives.createScheduledVisits(100, 'scheduler')).map((v) => v.repositoryId)).toContain(held.id);
  });

  it('asks the first tracker, by when they started tracking', async () => {
    const r = await repository({ trackers: ['early', 'late'] });
    const visits = (await archives.createScheduledVisits(100, 'scheduler')).filter((v) => v.repositoryId === r.id);
    expect(visits.map((v) => v.requestedBy)).toEqual(['early']);
  });

  it('records outcomes: success resets failures and adapts the interval; untracked repositories are not scheduled again', async () => {
    const tracked = await repository();
    const failed = await visit(tracked.id, { kind: 'failed', code: 'NETWORK', message: 'reset' });
    expect(failed).toMatchObject({ consecutiveFailures: 1, lastSuccessAt: null, intervalSeconds: 86_400 });
    const changed = await visit(tracked.id, { kind: 'completed', outcome: 'changed' });
    expect(changed).toMatchObject({ consecutiveFailures: 0, intervalSeconds: 3600, lastSuccessAt: expect.any(Date) });
    expect(changed!.lastChangeAt).toEqual(changed!.lastSuccessAt);
    const delay = changed!.nextVisitAt!.getTime() - changed!.lastVisitAt!.getTime();
    expect(delay).toBeGreaterThanOrEqual(3600 * 900);
    expect(delay).toBeLessThanOrEqual(3600 * 1100);
    const unchanged = await visit(tracked.id, { kind: 'completed', outcome: 'unchanged' });
    expect(unchanged!.lastChangeAt).toEqual(changed!.lastChangeAt);
    expect(unchanged!.lastSuccessAt!.getTime()).toBeGreaterThan(changed!.lastSuccessAt!.getTime());

    const untracked = await repository({ trackers: [] });
    expect(await visit(untracked.id, { kind: 'completed', outcome: 'changed' })).toMatchObject({
      nextVisitAt: null,
      lastSuccessAt: expect.any(Date),
    });
    expect(await repositories.recordVisitOutcome(randomUUID(), notFound, policy)).toBeNull();
  });

  it('disables only after permanent failures in a row: a success or a transient failure between them starts the count again', async () => {
    const r = await repository();
    for (const result of [notFound, notFound, { kind: 'completed', outcome: 'unchanged' } as const, notFound, notFound]) {
      expect((await visit(r.id, result))!.state).toBe('active');
    }
    await visit(r.id, { kind: 'failed', code: 'TIMED_OUT', message: 'too slow' });
    expect((await visit(r.id, notFound))!.state).toBe('active');
    expect((await visit(r.id, notFound))!.state).toBe('active');
    const disabled = await visit(r.id, notFound);
    expect(disabled).toMatchObject({ state: 'disabled', nextVisitAt: null });
    expect(disabled!.stateReason).toContain('Repository not found');
  });

  it('never disables for transient failures, backing off up to the maximum', async () => {
    const r = await repository();
    let last;
    for (let i = 0; i < 8; i++) last = await visit(r.id, { kind: 'failed', code: 'NETWORK', message: 'reset' });
    expect(last).toMatchObject({ state: 'active', consecutiveFailures: 8, stateReason: null });
    expect(last!.nextVisitAt!.getTime() - last!.lastVisitAt!.getTime()).toBeGreaterThanOrEqual(3600 * 900);
  });

  it('records two outcomes of one repository at once without losing either', async () => {
    const r = await repository();
    await Promise.all([visit(r.id, notFound), visit(r.id, notFound)]);
    expect((await repositories.findById(r.id))!.consecutiveFailures).toBe(2);
  });
});

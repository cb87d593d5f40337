import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '@archiver/config';
import { ArchiveRecord, PrismaService, TrackedRepositoryRepository } from '@archiver/database';
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
      expect(visits.every((v) => v.status === 'completed')).toBe(true);
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

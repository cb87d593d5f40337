import { randomUUID } from 'node:crypto';
import { loadConfig } from '@archiver/config';
import { ArchiveRepository, DatabaseError, DatabaseErrorCode, PrismaService, TrackedRepositoryRepository } from '@archiver/database';
import { rejectionOf } from '@archiver/testing';

describe(`${TrackedRepositoryRepository.name} on the real Postgres`, () => {
  const prisma = new PrismaService(loadConfig());
  const sut = new TrackedRepositoryRepository(prisma);
  const archives = new ArchiveRepository(prisma);
  // Every URL of this file starts here, so listings can be scoped to it and cleanup finds only its rows.
  const host = `https://repositories-db-${randomUUID()}.example.org`;
  const urlOf = (name: string) => ({ url: `${host}/${name}.git`, normalizedUrl: `${host}/${name}` });

  afterAll(async () => {
    try {
      const where = { normalizedUrl: { startsWith: host } };
      await prisma.archive.deleteMany({ where });
      await prisma.repository.deleteMany({ where });
    } finally {
      await prisma.$disconnect();
    }
  });

  describe('upsertForUrl', () => {
    it('keeps one repository per normalized URL under concurrent submissions, with the URL as first submitted', async () => {
      const { normalizedUrl } = urlOf('concurrent');
      const spellings = Array.from({ length: 8 }, (_, i) => `${normalizedUrl}${i % 2 ? '.git' : ''}?variant=${i}`);
      const results = await Promise.all(spellings.map((url) => sut.upsertForUrl(url, normalizedUrl)));
      expect(new Set(results.map((r) => r.id)).size).toBe(1);
      expect(await prisma.repository.count({ where: { normalizedUrl } })).toBe(1);
      const first = results[0]!.url;
      expect(spellings).toContain(first);
      expect((await sut.upsertForUrl(`${normalizedUrl}?later`, normalizedUrl)).url).toBe(first);
      expect(results[0]).toMatchObject({
        state: 'active',
        intervalSeconds: 86_400,
        consecutiveFailures: 0,
        nextVisitAt: null,
        bucket: null,
      });
    });

    it('links concurrent archives of one URL, by archive submissions and upserts alike, to one repository', async () => {
      const input = urlOf('linked-concurrent');
      const [submitted, upserted] = await Promise.all([
        Promise.all(Array.from({ length: 8 }, (_, i) => archives.createOrFindActive({ ...input, requestedBy: `user-${i}` }))),
        Promise.all(Array.from({ length: 4 }, () => sut.upsertForUrl(input.url, input.normalizedUrl))),
      ]);
      const ids = new Set([...submitted.map((r) => r.archive.repositoryId), ...upserted.map((r) => r.id)]);
      expect(ids.size).toBe(1);
      expect(submitted.every((r) => r.created)).toBe(true);
      expect(await prisma.repository.count({ where: { normalizedUrl: input.normalizedUrl } })).toBe(1);
    });
  });

  describe('archives as visits', () => {
    it('returns the repository with an active archive found again, and gives the repository its first bucket only', async () => {
      const input = { ...urlOf('visits'), requestedBy: 'visitor' };
      const first = await archives.createOrFindActive(input);
      const again = await archives.createOrFindActive(input);
      expect(again).toMatchObject({ created: false, archive: { id: first.archive.id, repositoryId: first.archive.repositoryId } });
      expect(await sut.findById(first.archive.repositoryId)).toMatchObject({ normalizedUrl: input.normalizedUrl, bucket: null });

      const complete = async (bucket: string) => {
        const { archive } = await archives.createOrFindActive(input);
        const runId = randomUUID();
        await archives.markQueued(archive.id, new Date());
        await archives.claimRun(archive.id, runId, 60_000, new Date());
        // A run that does not hold the archive moves neither the archive nor the repository.
        expect(await archives.setSnapshotLocation(archive.id, randomUUID(), 'not-this-run', 'snapshots/x/')).toBeNull();
        expect(await archives.setSnapshotLocation(archive.id, runId, bucket, `snapshots/${archive.id}/`)).toMatchObject({ bucket });
        return archives.markCompleted(archive.id, runId, { commit: 'abc', refCount: 1, fileCount: 2, byteCount: 30n }, new Date());
      };
      expect(await complete('bucket-first')).toMatchObject({ status: 'completed', outcome: 'changed' });
      expect(await sut.findById(first.archive.repositoryId)).toMatchObject({ bucket: 'bucket-first' });
      await complete('bucket-second');
      expect(await sut.findById(first.archive.repositoryId)).toMatchObject({ bucket: 'bucket-first' });
    });

    it('refuses an outcome on a visit that has not completed', async () => {
      const { archive } = await archives.createOrFindActive({ ...urlOf('outcome-check'), requestedBy: 'checker' });
      await expect(prisma.$executeRaw`UPDATE archive SET outcome = 'unchanged' WHERE id = ${archive.id}::uuid`).rejects.toThrow(
        /archive_outcome_completed_check/,
      );
    });
  });

  describe('track and untrack', () => {
    it('records a tracker once per user, returns the existing one again, and removes it', async () => {
      const repository = await sut.upsertForUrl(urlOf('tracked').url, urlOf('tracked').normalizedUrl);
      const first = await sut.track(repository.id, 'sub-a', 'alice');
      expect(first).toMatchObject({ created: true, tracker: { repositoryId: repository.id, userSubject: 'sub-a', userName: 'alice' } });
      const results = await Promise.all(Array.from({ length: 4 }, () => sut.track(repository.id, 'sub-a', 'alice')));
      expect(results.every((r) => !r.created && r.tracker.createdAt.getTime() === first.tracker.createdAt.getTime())).toBe(true);
      expect((await sut.track(repository.id, 'sub-b', 'bob')).created).toBe(true);
      expect(await prisma.repositoryTracker.count({ where: { repositoryId: repository.id } })).toBe(2);

      expect(await sut.untrack(repository.id, 'sub-a')).toBe(true);
      expect(await sut.untrack(repository.id, 'sub-a')).toBe(false);
      expect((await sut.track(repository.id, 'sub-a', 'alice')).created).toBe(true);
    });

    it('refuses to track a repository that does not exist', async () => {
      const error = await rejectionOf(sut.track(randomUUID(), 'sub-a', 'alice'), DatabaseError);
      expect(error.code).toBe(DatabaseErrorCode.NotFound);
    });

    it('removes the trackers with their repository', async () => {
      const repository = await sut.upsertForUrl(urlOf('removed').url, urlOf('removed').normalizedUrl);
      await sut.track(repository.id, 'sub-a', 'alice');
      await prisma.repository.delete({ where: { id: repository.id } });
      expect(await prisma.repositoryTracker.count({ where: { repositoryId: repository.id } })).toBe(0);
    });
  });

  describe('list', () => {
    // Its own host, so the admin listing (no subject) is scoped by q.
    const listHost = `${host}/list-${randomUUID()}`;
    const ids: Record<string, string> = {};

    beforeAll(async () => {
      for (const [i, name] of ['alpha', 'beta', 'gamma', 'percent%', 'under_score'].entries()) {
        const { id } = await sut.upsertForUrl(`${listHost}/${name}.git`, `${listHost}/${name}`);
        ids[name] = id;
        // Whole seconds apart: creations within one millisecond would order by id, at random.
        await prisma.repository.update({ where: { id }, data: { createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)) } });
      }
      await sut.track(ids.alpha!, 'lister', 'lister');
      await sut.track(ids.beta!, 'lister', 'lister');
      await sut.track(ids.beta!, 'other', 'other');
      await prisma.repository.update({ where: { id: ids.beta! }, data: { state: 'paused', stateReason: 'by lister' } });
      // alpha: one completed visit of 30 bytes, then a newer pending one.
      const visit = { url: `${listHost}/alpha.git`, normalizedUrl: `${listHost}/alpha`, requestedBy: 'lister' };
      const { archive } = await archives.createOrFindActive(visit);
      const runId = randomUUID();
      await archives.markQueued(archive.id, new Date());
      await archives.claimRun(archive.id, runId, 60_000, new Date());
      await archives.markCompleted(archive.id, runId, { commit: 'abc', refCount: 1, fileCount: 2, byteCount: 30n }, new Date());
      await archives.createOrFindActive(visit);
    });

    const names = (items: { id: string }[]) => items.map((r) => Object.keys(ids).find((name) => ids[name] === r.id));

    it('lists only the repositories a user tracks, or all of them, newest first with a total', async () => {
      const mine = await sut.list({ subject: 'lister', q: listHost, page: 1, pageSize: 10 });
      expect(mine).toMatchObject({ total: 2 });
      expect(names(mine.items)).toEqual(['beta', 'alpha']);
      const all = await sut.list({ q: listHost, page: 1, pageSize: 10 });
      expect(names(all.items)).toEqual(['under_score', 'percent%', 'gamma', 'beta', 'alpha']);
      expect(await sut.list({ subject: `nobody-${randomUUID()}`, page: 1, pageSize: 10 })).toEqual({ items: [], total: 0 });
    });

    it('pages, filters by state and matches q as a plain substring', async () => {
      const second = await sut.list({ q: listHost, page: 2, pageSize: 2 });
      expect({ total: second.total, names: names(second.items) }).toEqual({ total: 5, names: ['gamma', 'beta'] });
      expect(names((await sut.list({ q: listHost, state: 'paused', page: 1, pageSize: 10 })).items)).toEqual(['beta']);
      expect((await sut.list({ q: listHost, state: 'disabled', page: 1, pageSize: 10 })).total).toBe(0);
      expect(names((await sut.list({ q: `${listHost}/percent%`, page: 1, pageSize: 10 })).items)).toEqual(['percent%']);
      expect(names((await sut.list({ q: `${listHost}/under_`, page: 1, pageSize: 10 })).items)).toEqual(['under_score']);
      // As wildcards these would match every repository under listHost, or alpha.
      expect((await sut.list({ q: `${listHost}/%`, page: 1, pageSize: 10 })).items).toEqual([]);
      expect((await sut.list({ q: `${listHost}/_lpha`, page: 1, pageSize: 10 })).items).toEqual([]);
      expect((await sut.list({ q: `${listHost}\\`, page: 1, pageSize: 10 })).items).toEqual([]);
      expect((await sut.list({ q: `${listHost.toUpperCase()}/GAMMA`, page: 1, pageSize: 10 })).total).toBe(1);
    });

    it('gives each repository its newest visit, snapshot count, stored bytes and trackers', async () => {
      const { items } = await sut.list({ q: listHost, page: 1, pageSize: 10 });
      const byName = Object.fromEntries(items.map((r, i) => [names(items)[i], r]));
      expect(byName.alpha).toMatchObject({
        lastVisit: { status: 'pending', outcome: null, finishedAt: null },
        snapshotCount: 1,
        storedBytes: 30n,
        trackerCount: 1,
      });
      expect(byName.beta).toMatchObject({
        state: 'paused',
        stateReason: 'by lister',
        lastVisit: null,
        snapshotCount: 0,
        storedBytes: 0n,
        trackerCount: 2,
      });
    });
  });
});

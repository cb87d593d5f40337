import { randomUUID } from 'node:crypto';
import { loadConfig } from '@archiver/config';
import { ArchiveRepository, PrismaService } from '@archiver/database';
import { waitFor } from '@archiver/testing';

describe('ArchiveRepository on the real Postgres', () => {
  const prisma = new PrismaService(loadConfig());
  const sut = new ArchiveRepository(prisma);
  const requestedBy = `test-${randomUUID()}`;
  const newArchive = (name: string = randomUUID()) => ({
    url: `https://example.org/${name}.git`,
    normalizedUrl: `https://example.org/${name}`,
    requestedBy,
  });

  afterAll(async () => {
    try {
      await prisma.archive.deleteMany({ where: { requestedBy } });
    } finally {
      await prisma.$disconnect();
    }
  });

  it('writes a row through Prisma and reads it back', async () => {
    const { archive, created } = await sut.createOrFindActive(newArchive());
    expect(created).toBe(true);
    expect(await sut.findById(archive.id)).toMatchObject({ id: archive.id, status: 'pending', requestedBy, attempts: 0 });
  });

  it('returns a new archive exactly as stored, every column (it does not read the row back)', async () => {
    const { archive } = await sut.createOrFindActive({ ...newArchive(), requestedByName: 'Zoë' });
    expect(archive).toEqual(await sut.findById(archive.id));
    const { archive: unnamed } = await sut.createOrFindActive(newArchive());
    expect(unnamed).toEqual(await sut.findById(unnamed.id));
  });

  it('stamps each stage once and refuses transitions from the wrong status', async () => {
    const { archive } = await sut.createOrFindActive(newArchive());
    const t1 = new Date(Date.now() + 10);
    const queued = await sut.markQueued(archive.id, t1);
    expect(queued).toMatchObject({ status: 'queued', injectedAt: t1 });
    expect(await sut.markQueued(archive.id, new Date(Date.now() + 50))).toBeNull();

    const t2 = new Date(Date.now() + 20);
    const runA = randomUUID();
    const running = await sut.claimRun(archive.id, runA, 60_000, t2);
    expect(running).toMatchObject({ status: 'running', startedAt: t2, attempts: 1, runId: runA });
    // While run A's lease lives, no other run may take the archive over.
    const runB = randomUUID();
    expect(await sut.claimRun(archive.id, runB, 60_000, new Date())).toBeNull();
    expect(await sut.describeClaim(archive.id)).toMatchObject({ state: 'held' });
    // Once A gives it up, B may; the retry counts the run but keeps the first stamp, and A is fenced out.
    await sut.releaseRun(archive.id, runA);
    expect(await sut.claimRun(archive.id, runB, 60_000, new Date(Date.now() + 60))).toMatchObject({ startedAt: t2, attempts: 2 });
    expect(await sut.renewRun(archive.id, runA, 60_000)).toBe(false);
    expect(await sut.renewRun(archive.id, runB, 60_000)).toBe(true);
    expect(await sut.setSnapshotLocation(archive.id, runA, 'bucket-a', 'snapshots/a/')).toBeNull();
    expect(await sut.setSnapshotLocation(archive.id, runB, 'bucket-b', 'snapshots/b/')).toMatchObject({
      bucket: 'bucket-b',
      prefix: 'snapshots/b/',
    });
    expect(await sut.markCompleted(archive.id, runA, { commit: 'abc', refCount: 2, fileCount: 3, byteCount: 4n }, new Date())).toBeNull();
    expect(await sut.markRunFailed(archive.id, runA, 'X', 'stale run', new Date())).toBeNull();
    // Nobody may fail an archive a live run holds, except that run.
    expect(await sut.markFailed(archive.id, 'X', 'reconciler', new Date())).toBeNull();

    const t3 = new Date(Date.now() + 30);
    const done = await sut.markCompleted(archive.id, runB, { commit: 'abc', refCount: 2, fileCount: 3, byteCount: 4n }, t3);
    expect(done).toMatchObject({ status: 'completed', finishedAt: t3, fileCount: 3, byteCount: 4n });
    expect(await sut.markFailed(archive.id, 'X', 'late failure', new Date())).toBeNull();
    expect(await sut.claimRun(archive.id, randomUUID(), 60_000, new Date())).toBeNull();
    expect(await sut.describeClaim(archive.id)).toEqual({ state: 'finished' });
  });

  it('lets a run take over an archive whose lease expired, and the reconciler fail it', async () => {
    const { archive } = await sut.createOrFindActive(newArchive());
    await sut.markQueued(archive.id, new Date());
    const dead = randomUUID();
    expect(await sut.claimRun(archive.id, dead, 1, new Date())).not.toBeNull();
    await waitFor('the 1 ms lease to run out', async () =>
      (await sut.describeClaim(archive.id)).state === 'claimable' ? true : undefined,
    );
    const unsettled = await sut.findUnsettled(new Date(Date.now() + 1000), 1000);
    expect(unsettled.find((a) => a.id === archive.id)).toEqual({ id: archive.id, status: 'running', attempts: 1, leaseLive: false });
    expect(await sut.markFailed(archive.id, 'RUNS_EXHAUSTED', 'gave up', new Date())).toMatchObject({ status: 'failed' });
  });

  it('collapses concurrent identical submissions onto one active archive', async () => {
    const input = newArchive('same-repo');
    const results = await Promise.all(Array.from({ length: 8 }, () => sut.createOrFindActive(input)));
    expect(new Set(results.map((r) => r.archive.id)).size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
  });

  it('lists newest first with a total, filtered by user and status', async () => {
    const page = await sut.list({ requestedBy, page: 1, pageSize: 2 });
    expect(page.total).toBeGreaterThanOrEqual(3);
    expect(page.items).toHaveLength(2);
    expect(page.items[0].createdAt.getTime()).toBeGreaterThanOrEqual(page.items[1].createdAt.getTime());
    const completed = await sut.list({ requestedBy, status: 'completed', page: 1, pageSize: 10 });
    // The stage test above completed one: the filter must find it, and nothing else.
    expect(completed.items.length).toBeGreaterThanOrEqual(1);
    expect(completed.items.filter((a) => a.status !== 'completed')).toEqual([]);
  });

  it('computes statistics over completed archives', async () => {
    const stats = await sut.stats(requestedBy);
    expect(stats.counts.completed).toBeGreaterThanOrEqual(1);
    expect(stats.totals.files).toBeGreaterThanOrEqual(3);
    expect(stats.stages.run.meanMs).not.toBeNull();
  });
});

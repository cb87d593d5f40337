import { randomUUID } from 'node:crypto';
import { loadConfig } from '@archiver/config';
import { ArchiveRepository, PrismaService } from '@archiver/database';

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
    await prisma.archive.deleteMany({ where: { requestedBy } });
    await prisma.$disconnect();
  });

  it('writes a row through Prisma and reads it back', async () => {
    const { archive, created } = await sut.createOrFindActive(newArchive());
    expect(created).toBe(true);
    expect(await sut.findById(archive.id)).toMatchObject({ id: archive.id, status: 'pending', requestedBy, attempts: 0 });
  });

  it('stamps each stage once and refuses transitions from the wrong status', async () => {
    const { archive } = await sut.createOrFindActive(newArchive());
    const t1 = new Date(Date.now() + 10);
    const queued = await sut.markQueued(archive.id, t1);
    expect(queued).toMatchObject({ status: 'queued', injectedAt: t1 });
    expect(await sut.markQueued(archive.id, new Date(Date.now() + 50))).toBeNull();

    const t2 = new Date(Date.now() + 20);
    const running = await sut.markRunning(archive.id, t2);
    expect(running).toMatchObject({ status: 'running', startedAt: t2, attempts: 1 });
    // A retry counts the attempt but keeps the first stamp.
    expect(await sut.markRunning(archive.id, new Date(Date.now() + 60))).toMatchObject({ startedAt: t2, attempts: 2 });

    await sut.claimSnapshotLocation(archive.id, 'bucket-a', 'snapshots/1/');
    expect(await sut.claimSnapshotLocation(archive.id, 'bucket-b', 'snapshots/2/')).toMatchObject({
      bucket: 'bucket-a',
      prefix: 'snapshots/1/',
    });

    const t3 = new Date(Date.now() + 30);
    const done = await sut.markCompleted(archive.id, { commit: 'abc', refCount: 2, fileCount: 3, byteCount: 4n }, t3);
    expect(done).toMatchObject({ status: 'completed', finishedAt: t3, fileCount: 3, byteCount: 4n });
    expect(await sut.markFailed(archive.id, 'X', 'late failure', new Date())).toBeNull();
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
    expect(completed.items.every((a) => a.status === 'completed')).toBe(true);
  });

  it('computes statistics over completed archives', async () => {
    const stats = await sut.stats(requestedBy);
    expect(stats.counts.completed).toBeGreaterThanOrEqual(1);
    expect(stats.totals.files).toBeGreaterThanOrEqual(3);
    expect(stats.stages.run.meanMs).not.toBeNull();
  });
});

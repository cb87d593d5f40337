import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { loadConfig } from '@archiver/config';
import { ArchiveRepository, PrismaService } from '@archiver/database';
import { QueueName, QueueRepository, redisOptions } from '@archiver/queue';
import { AppProcess, startApp, waitFor } from '@archiver/testing';

// A job crosses Redis between two processes: this test produces on `pending` through the
// project's QueueRepository; a real injector process consumes it and produces on `archive`.
describe('BullMQ through Redis between processes', () => {
  const config = loadConfig();
  const prisma = new PrismaService(config);
  const archives = new ArchiveRepository(prisma);
  const queues = new QueueRepository(config);
  const archiveQueue = new Queue(QueueName.Archive, { connection: redisOptions(config.redis.url, 'producer') });
  const requestedBy = `test-${randomUUID()}`;
  let injector: AppProcess;

  beforeAll(async () => {
    injector = await startApp('injector', { RECONCILE_INTERVAL_SECONDS: '1' });
  });

  afterAll(async () => {
    await injector?.stop();
    const ids = (await prisma.archive.findMany({ where: { requestedBy }, select: { id: true } })).map((a) => a.id);
    await Promise.all(ids.map((id) => archiveQueue.remove(id)));
    await prisma.archive.deleteMany({ where: { requestedBy } });
    await Promise.all([archiveQueue.close(), queues.onModuleDestroy(), prisma.$disconnect()]);
  });

  const newArchive = () =>
    archives.createOrFindActive({
      url: `https://example.org/${randomUUID()}.git`,
      normalizedUrl: `https://example.org/${randomUUID()}`,
      requestedBy,
    });

  it('injector stamps the archive and hands it to the archive queue', async () => {
    const { archive } = await newArchive();
    await queues.enqueue(QueueName.Pending, { archiveId: archive.id });

    const queued = await waitFor('archive to be queued', async () => {
      const row = await archives.findById(archive.id);
      return row?.status === 'queued' ? row : undefined;
    });
    expect(queued.injectedAt!.getTime()).toBeGreaterThanOrEqual(archive.createdAt.getTime());
    // The row is stamped just before the job is added, so wait for the job too.
    const job = await waitFor('the archive job', async () => (await archiveQueue.getJob(archive.id)) ?? undefined);
    expect(job.data).toEqual({ archiveId: archive.id });
  });

  it('the reconciler queues an archive whose enqueue was lost', async () => {
    // Recorded, but never enqueued: as if Redis had been down or the frontend crashed.
    const { archive } = await newArchive();
    const queued = await waitFor(
      'reconciler to pick up the lost archive',
      async () => ((await archives.findById(archive.id))?.status === 'queued' ? true : undefined),
      20_000,
    );
    expect(queued).toBe(true);
    const job = await waitFor('the archive job', async () => (await archiveQueue.getJob(archive.id)) ?? undefined);
    expect(job.data).toEqual({ archiveId: archive.id });
  });
});

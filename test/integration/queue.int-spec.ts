import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { loadConfig } from '@archiver/config';
import { ArchiveRepository, type ArchiveRecord, PrismaService } from '@archiver/database';
import { QueueName, QueueRepository, redisOptions } from '@archiver/queue';
import { bucketNameFor, manifestKey, ObjectStoreRepository, snapshotPrefix } from '@archiver/storage';
import { AppProcess, closeAll, startApp, waitFor } from '@archiver/testing';

// A job crosses Redis between two processes: this test produces on `pending` through the
// project's QueueRepository; a real injector process consumes it and produces on `archive`.
// Its reconciler repairs every way an archive can lose its job.
describe('BullMQ through Redis between processes', () => {
  const config = loadConfig();
  const prisma = new PrismaService(config);
  const archives = new ArchiveRepository(prisma);
  const connection = redisOptions(config.redis.url, 'producer');
  const pendingQueue = new Queue(QueueName.Pending, { connection });
  const archiveQueue = new Queue(QueueName.Archive, { connection });
  const bundleQueue = new Queue(QueueName.Bundle, { connection });
  const verifyQueue = new Queue(QueueName.Verify, { connection });
  const pruneQueue = new Queue(QueueName.Prune, { connection });
  const purgeQueue = new Queue(QueueName.Purge, { connection });
  const webhookQueue = new Queue(QueueName.WebhookDelivery, { connection });
  const importQueue = new Queue(QueueName.Import, { connection });
  const queues = new QueueRepository(
    pendingQueue,
    archiveQueue,
    bundleQueue,
    verifyQueue,
    pruneQueue,
    purgeQueue,
    webhookQueue,
    importQueue,
    config,
  );
  const requestedBy = `test-${randomUUID()}`;
  let injector: AppProcess;

  beforeAll(async () => {
    injector = await startApp('injector', { RECONCILE_INTERVAL_SECONDS: '1', ARCHIVE_MAX_RUNS: '3' });
  });

  afterAll(async () => {
    try {
      await injector?.stop();
      const ids = (await prisma.archive.findMany({ where: { requestedBy }, select: { id: true } })).map((a) => a.id);
      await Promise.all(ids.flatMap((id) => [archiveQueue.remove(id), pendingQueue.remove(id)]));
      await prisma.archive.deleteMany({ where: { requestedBy } });
    } finally {
      await closeAll(
        archiveQueue.close(),
        pendingQueue.close(),
        bundleQueue.close(),
        verifyQueue.close(),
        pruneQueue.close(),
        purgeQueue.close(),
        webhookQueue.close(),
        importQueue.close(),
        prisma.$disconnect(),
      );
    }
  });

  const newArchive = async () =>
    (
      await archives.createOrFindActive({
        url: `https://example.org/${randomUUID()}.git`,
        normalizedUrl: `https://example.org/${randomUUID()}`,
        requestedBy,
      })
    ).archive;
  const statusOf = async (id: string) => (await archives.findById(id))?.status;
  const archiveJob = (id: string) => waitFor(`the archive job of ${id}`, async () => (await archiveQueue.getJob(id)) ?? undefined, 20_000);
  /** Waits until the archive queue holds a job for `id` that a worker could still take. */
  const liveJob = (what: string, id: string) =>
    waitFor(
      what,
      async () => (['waiting', 'delayed', 'prioritized'].includes(await archiveQueue.getJobState(id)) ? true : undefined),
      20_000,
    );
  /**
   * A job that used up its attempts, holding the archive's id in Redis as BullMQ leaves it.
   * Made while no injector consumes (see withoutInjector); LIFO puts it first in line.
   */
  const failedJob = async (queue: Queue, id: string) => {
    await queue.add(queue.name, { archiveId: id }, { jobId: id, attempts: 1, lifo: true });
    const job = await queue.getJob(id);
    // moveToFailed needs the job's lock: take it the way a worker does.
    const token = randomUUID();
    const { Worker } = await import('bullmq');
    const worker = new Worker(queue.name, null, { connection: { ...connection, maxRetriesPerRequest: null }, autorun: false });
    try {
      const fetched = await worker.getNextJob(token);
      expect(fetched?.id).toBe(job?.id);
      await fetched!.moveToFailed(new Error('every attempt failed while the database was down'), token, false);
    } finally {
      // Also when the expectation fails: an open Worker connection keeps Jest from exiting.
      await worker.close();
    }
    expect(await queue.getJobState(id)).toBe('failed');
  };

  /** Stops the injector while `setUp` runs, then starts a fresh one (whose reconciler then repairs). */
  const withoutInjector = async (setUp: () => Promise<void>) => {
    await injector.stop();
    await setUp();
    injector = await startApp('injector', { RECONCILE_INTERVAL_SECONDS: '1', ARCHIVE_MAX_RUNS: '3' });
  };

  it('injector stamps the archive and hands it to the archive queue', async () => {
    const archive = await newArchive();
    await queues.enqueue(QueueName.Pending, { archiveId: archive.id });
    const queued = await waitFor('archive to be queued', async () => {
      const row = await archives.findById(archive.id);
      return row?.status === 'queued' ? row : undefined;
    });
    expect(queued.injectedAt!.getTime()).toBeGreaterThanOrEqual(archive.createdAt.getTime());
    expect((await archiveJob(archive.id)).data).toEqual({ archiveId: archive.id });
  });

  it('the reconciler queues an archive whose enqueue was lost', async () => {
    // Recorded, but never enqueued: as if Redis had been down or the frontend crashed.
    const archive = await newArchive();
    await waitFor(
      'reconciler to pick up the lost archive',
      async () => ((await statusOf(archive.id)) === 'queued' ? true : undefined),
      20_000,
    );
    expect((await archiveJob(archive.id)).data).toEqual({ archiveId: archive.id });
  });

  it('re-queues pending and queued archives whose failed job still holds their id', async () => {
    // Made while no injector runs: on a slow machine its reconciler (1 s) could otherwise repair
    // the fresh rows before their failed jobs exist, and the test would watch another story.
    let pending!: ArchiveRecord;
    let queued!: ArchiveRecord;
    await withoutInjector(async () => {
      pending = await newArchive();
      queued = await newArchive();
      await archives.markQueued(queued.id, new Date());
      await failedJob(pendingQueue, pending.id);
      await failedJob(archiveQueue, queued.id);
    });

    await waitFor('the pending archive to be injected', async () => ((await statusOf(pending.id)) === 'queued' ? true : undefined), 20_000);
    // The injector stamps the row before it adds the job, so the job may follow a moment later.
    await liveJob('the injected archive to get a live job', pending.id);
    await liveJob('the queued archive to get a live job', queued.id);
  });

  it('re-queues a running archive whose run died (expired lease, no live job), and fails it once its runs are used up', async () => {
    const crashed = await newArchive();
    await archives.markQueued(crashed.id, new Date());
    expect(await archives.claimRun(crashed.id, randomUUID(), 1, new Date())).not.toBeNull(); // a run that died at once
    await withoutInjector(() => failedJob(archiveQueue, crashed.id));
    await liveJob('the crashed run to be re-queued', crashed.id);
    expect(await statusOf(crashed.id)).toBe('running');

    const exhausted = await newArchive();
    await archives.markQueued(exhausted.id, new Date());
    for (let run = 0; run < 3; run++) {
      expect(await archives.claimRun(exhausted.id, randomUUID(), 1, new Date())).not.toBeNull();
      await waitFor('the lease to expire', async () =>
        (await archives.describeClaim(exhausted.id)).state === 'claimable' ? true : undefined,
      );
    }
    const failed = await waitFor(
      'the exhausted archive to fail',
      async () => {
        const row = await archives.findById(exhausted.id);
        return row?.status === 'failed' ? row : undefined;
      },
      20_000,
    );
    expect(failed).toMatchObject({ errorCode: 'RUNS_EXHAUSTED' });
    expect(failed.error).toMatch(/Gave up after 3 runs/);
    expect(failed.finishedAt).not.toBeNull();
  });

  it('removes what the last run of an archive left in its bucket when it fails it for used-up runs', async () => {
    const store = new ObjectStoreRepository(config.minio);
    const exhausted = await newArchive();
    const bucket = bucketNameFor(exhausted.normalizedUrl);
    try {
      // The last run died half-way: files, even a manifest, under its own prefix. Written
      // first, so that the runs below use up their leases faster than a reconcile interval.
      const lastRunId = randomUUID();
      const prefix = snapshotPrefix(new Date(), exhausted.id, lastRunId);
      await store.ensureBucket(bucket);
      await store.putBuffer(bucket, `${prefix}files/a.txt`, Buffer.from('half a snapshot'));
      await store.putBuffer(bucket, manifestKey(prefix), Buffer.from('{}'));
      await archives.markQueued(exhausted.id, new Date());
      for (const runId of [randomUUID(), randomUUID(), lastRunId]) {
        expect(await archives.claimRun(exhausted.id, runId, 1, new Date())).not.toBeNull();
        await waitFor('the lease to expire', async () =>
          (await archives.describeClaim(exhausted.id)).state === 'claimable' ? true : undefined,
        );
      }
      expect(await archives.setSnapshotLocation(exhausted.id, lastRunId, bucket, prefix)).not.toBeNull();
      const failed = await waitFor(
        'the exhausted archive to fail',
        async () => {
          const row = await archives.findById(exhausted.id);
          return row?.status === 'failed' ? row : undefined;
        },
        20_000,
      );
      expect(failed).toMatchObject({ errorCode: 'RUNS_EXHAUSTED', bucket, prefix });
      expect(await store.listAllObjects(bucket, prefix)).toEqual([]);
      // The failed visit counts on its repository, as when the worker gives up.
      expect(await prisma.repository.findUnique({ where: { id: exhausted.repositoryId } })).toMatchObject({
        consecutiveFailures: 1,
        lastVisitAt: expect.any(Date),
      });
    } finally {
      await store.removePrefix(bucket, 'snapshots/').catch(() => undefined);
      await store.removeBucketIfEmpty(bucket).catch(() => false);
      store.close();
    }
  });

  it('leaves a running archive alone while its run holds a live lease', async () => {
    const live = await newArchive();
    await archives.markQueued(live.id, new Date());
    await archives.claimRun(live.id, randomUUID(), 60_000, new Date());
    // A canary recorded after it goes stale after it: once the reconciler has queued the
    // canary, a pass has seen the running archive too.
    const canary = await newArchive();
    await waitFor('the canary to be reconciled', async () => ((await statusOf(canary.id)) === 'queued' ? true : undefined), 20_000);
    expect(await archiveQueue.getJobState(live.id)).toBe('unknown');
    expect(await statusOf(live.id)).toBe('running');
  });
});

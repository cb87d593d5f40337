import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { loadConfig } from '@archiver/config';
import { ArchiveRepository, type NewArchive, PrismaService } from '@archiver/database';
import { QueueName, QueueRepository, redisOptions } from '@archiver/queue';
import { closeAll } from '@archiver/testing';

// Concurrent submissions share one insert statement and their jobs one addBulk (ArchiveRepository.createOrFindActive):
// whatever mix arrives together, each caller must get exactly what one statement per caller
// gave — one active archive per requester and repository, one repository row per URL, every
// returned archive equal to its stored row — also across two processes' batches at once.
describe('Submissions inserted in shared statements, on the real Postgres', () => {
  const config = loadConfig();
  // Two frontends: their own connection pools, their own batches.
  const prismas = [new PrismaService(config), new PrismaService(config)];
  const repositories = prismas.map((prisma) => new ArchiveRepository(prisma));
  const run = randomUUID();
  const host = `batch-${run}.example.org`;

  afterAll(async () => {
    try {
      await prismas[0].archive.deleteMany({ where: { normalizedUrl: { startsWith: `https://${host}/` } } });
      await prismas[0].repository.deleteMany({ where: { normalizedUrl: { startsWith: `https://${host}/` } } });
    } finally {
      await Promise.all(prismas.map((prisma) => prisma.$disconnect()));
    }
  });

  const users = ['alice', 'bob', 'carol'].map((name) => ({
    requestedBy: `${name}-${run}`,
    requestedByName: name === 'carol' ? undefined : name,
  }));

  it('gives every mix of requesters and repositories what one statement per caller gave', async () => {
    const spies = prismas.map((prisma) => jest.spyOn(prisma, '$queryRaw'));
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    let submissions = 0;
    for (let round = 0; round < 6; round++) {
      // 120 at once: 3 requesters × 12 repositories, each pair several times, both processes.
      const inputs: NewArchive[] = Array.from({ length: 120 }, () => {
        const user = users[random(users.length)];
        const path = `r${round}/${random(12)}`;
        return { url: `https://${host}/${path}.git`, normalizedUrl: `https://${host}/${path}`, ...user };
      });
      submissions += inputs.length;
      const results = await Promise.all(inputs.map((input, i) => repositories[i % 2].createOrFindActive(input)));

      const byPair = new Map<string, string[]>();
      results.forEach(({ archive }, i) => {
        const pair = `${inputs[i].requestedBy} ${inputs[i].normalizedUrl}`;
        byPair.set(pair, [...(byPair.get(pair) ?? []), archive.id]);
        expect(archive).toMatchObject({ ...inputs[i], requestedByName: inputs[i].requestedByName ?? null, status: 'pending' });
      });
      for (const ids of byPair.values()) expect(new Set(ids).size).toBe(1);
      expect(results.filter((r) => r.created)).toHaveLength(byPair.size);

      // Exactly what is stored, every column, for each archive created.
      for (const { archive } of results.filter((r) => r.created)) expect(await repositories[0].findById(archive.id)).toEqual(archive);
      const stored = await prismas[0].archive.findMany({ where: { normalizedUrl: { startsWith: `https://${host}/r${round}/` } } });
      expect(stored).toHaveLength(byPair.size);
      const repos = await prismas[0].repository.findMany({ where: { normalizedUrl: { startsWith: `https://${host}/r${round}/` } } });
      expect(repos).toHaveLength(new Set(inputs.map((input) => input.normalizedUrl)).size);
      const repoOf = new Map(repos.map((repo) => [repo.normalizedUrl, repo.id]));
      for (const archive of stored) expect(archive.repositoryId).toBe(repoOf.get(archive.normalizedUrl));
    }
    // They did share statements: far fewer inserts than submissions.
    const inserts = spies.flatMap((spy) => spy.mock.calls).filter(([sql]) => String(sql).includes('INSERT INTO archive')).length;
    expect(inserts).toBeLessThan(submissions / 4);
    spies.forEach((spy) => spy.mockRestore());
  });

  it('fails only the submission the database refuses; the others arriving with it are recorded', async () => {
    const good = Array.from({ length: 10 }, (_, i) => ({
      url: `https://${host}/poison/${i}.git`,
      normalizedUrl: `https://${host}/poison/${i}`,
      ...users[0],
    }));
    // Postgres refuses a NUL in text: this row fails the shared statement.
    const poisoned = { ...good[0], url: `https://${host}/poison/\u0000.git`, normalizedUrl: `https://${host}/poison/\u0000` };
    const outcomes = await Promise.allSettled(
      [...good.slice(0, 5), poisoned, ...good.slice(5)].map((input) => repositories[0].createOrFindActive(input)),
    );
    expect(outcomes.map((o) => o.status)).toEqual([...Array(5).fill('fulfilled'), 'rejected', ...Array(5).fill('fulfilled')]);
    const stored = await prismas[0].archive.findMany({ where: { normalizedUrl: { startsWith: `https://${host}/poison/` } } });
    expect(stored.map((a) => a.normalizedUrl).sort()).toEqual(good.map((g) => g.normalizedUrl).sort());
  });

  it('does not hold up the submissions arriving with one whose repository row is locked', async () => {
    const locked = { url: `https://${host}/locked.git`, normalizedUrl: `https://${host}/locked`, ...users[0] };
    const first = await repositories[0].createOrFindActive(locked);
    await prismas[0].archive.update({ where: { id: first.archive.id }, data: { status: 'completed' } });
    // As a visit delete folding that repository's history holds it (ArchiveRepository.deleteVisit).
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let holding!: () => void;
    const held = new Promise<void>((resolve) => (holding = resolve));
    const holder = prismas[1].$transaction(
      async (tx) => {
        await tx.$queryRaw`SELECT id FROM repository WHERE id = ${first.archive.repositoryId}::uuid FOR UPDATE`;
        holding();
        await released;
      },
      { timeout: 60_000 },
    );
    await held;
    try {
      const blocked = repositories[0].createOrFindActive(locked);
      let blockedDone = false;
      void blocked.finally(() => (blockedDone = true)).catch(() => undefined);
      const others = Array.from({ length: 10 }, (_, i) => ({
        url: `https://${host}/beside/${i}.git`,
        normalizedUrl: `https://${host}/beside/${i}`,
        ...users[0],
      }));
      const bounded = new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error('the others waited for the locked row')), 20_000).unref(),
      );
      const results = await Promise.race([Promise.all(others.map((input) => repositories[0].createOrFindActive(input))), bounded]);
      expect(results.every((r) => r.created)).toBe(true);
      expect(blockedDone).toBe(false);
      release();
      expect((await blocked).created).toBe(true);
      // The batch's lock timeout ended with its statement: no pooled connection keeps it.
      const settings = await Promise.all(
        Array.from({ length: 30 }, () => prismas[0].$queryRaw<{ lock_timeout: string }[]>`SHOW lock_timeout`),
      );
      expect(new Set(settings.map(([row]) => row.lock_timeout))).toEqual(new Set(['0']));
    } finally {
      release();
      await holder;
    }
  });

  it('finds the active archive again once the insert conflicts, also after the first one finished', async () => {
    const input = { url: `https://${host}/again.git`, normalizedUrl: `https://${host}/again`, ...users[1] };
    const first = await repositories[0].createOrFindActive(input);
    const again = await repositories[1].createOrFindActive(input);
    expect(again).toEqual({ archive: first.archive, created: false });
    await prismas[0].archive.update({ where: { id: first.archive.id }, data: { status: 'completed' } });
    const next = await repositories[1].createOrFindActive(input);
    expect(next.created).toBe(true);
    expect(next.archive.id).not.toBe(first.archive.id);
    expect(next.archive.repositoryId).toBe(first.archive.repositoryId);
  });
});

// QueueRepository.enqueue: jobs added together go to Redis in one addBulk. Queues under a
// prefix of their own, so no injector of another suite takes these jobs.
describe('Jobs added together, on the real Redis', () => {
  const config = loadConfig();
  const prefix = `test-batches-${randomUUID()}`;
  const connection = redisOptions(config.redis.url, 'producer');
  const queues = Object.values(QueueName).map((name) => new Queue(name, { connection, prefix }));
  const [pending, archive, bundle, verify, prune, purge, webhook, imports] = queues;
  const live = { queues, repository: new QueueRepository(pending, archive, bundle, verify, prune, purge, webhook, imports, config) };

  afterAll(async () => {
    try {
      await Promise.all(live.queues.map((queue) => queue.obliterate({ force: true })));
    } finally {
      await closeAll(...live.queues.map((queue) => queue.close()));
    }
  });

  it('adds every job with its id, data and options, in far fewer round trips than jobs', async () => {
    const bulk = jest.spyOn(pending, 'addBulk');
    const archiveIds = Array.from({ length: 300 }, () => randomUUID());
    const deliveryIds = Array.from({ length: 20 }, () => randomUUID());
    // Each archive twice (a duplicate enqueue of a live job is a no-op), deliveries meanwhile.
    await Promise.all([
      ...[...archiveIds, ...archiveIds.slice(0, 50)].map((archiveId) => live.repository.enqueue(QueueName.Pending, { archiveId })),
      ...deliveryIds.map((deliveryId) => live.repository.enqueue(QueueName.WebhookDelivery, { deliveryId })),
    ]);
    expect(bulk.mock.calls.length).toBeLessThan(350 / 4);
    bulk.mockRestore();

    expect(await pending.getJobCountByTypes('waiting')).toBe(300);
    for (const archiveId of archiveIds) {
      const job = await pending.getJob(archiveId);
      expect(job).toMatchObject({ id: archiveId, name: QueueName.Pending, data: { archiveId } });
      expect(job!.opts).toMatchObject({ attempts: 8, backoff: { type: 'exponential', delay: 1000 } });
    }
    expect(await webhook.getJobCountByTypes('waiting')).toBe(20);
    for (const deliveryId of deliveryIds) {
      const job = await webhook.getJob(deliveryId);
      expect(job).toMatchObject({ data: { deliveryId } });
      expect(job!.opts.attempts).toBe(config.webhooks.maxAttempts);
    }
  });
});

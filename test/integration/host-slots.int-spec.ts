import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { loadConfig } from '@archiver/config';
import { redisOptions } from '@archiver/queue';
import { waitFor } from '@archiver/testing';
import { backoffKey, HostSlotsRepository, slotsKey } from '../../apps/worker/src/politeness/host-slots.repository';

// The per-host semaphore and backoff of HostSlotsRepository on the stack's real Redis: the Lua
// scripts are the whole guarantee that many workers on many machines never exceed the limit.
describe(HostSlotsRepository.name, () => {
  const config = loadConfig();
  const redis = new Redis(redisOptions(config.redis.url, 'consumer'));
  const repositories: HostSlotsRepository[] = [];
  const hosts: string[] = [];
  /** One repository per simulated worker: each has its own connection, as separate processes do. */
  const worker = (): HostSlotsRepository => {
    const repository = new HostSlotsRepository(config);
    repositories.push(repository);
    return repository;
  };
  const newHost = (): string => {
    const host = `polite-${randomUUID().slice(0, 8)}.example:${1000 + hosts.length}`;
    hosts.push(host);
    return host;
  };
  let sut: HostSlotsRepository;

  beforeAll(() => {
    sut = worker();
  });

  afterAll(async () => {
    for (const host of hosts) await redis.del(slotsKey(host), backoffKey(host));
    await Promise.all(repositories.map((r) => r.onApplicationShutdown()));
    await redis.quit();
  });

  it('grants at most `max` slots at once, and a released slot to the next', async () => {
    const host = newHost();
    const answers = [];
    for (const token of ['a', 'b', 'c']) answers.push(await sut.tryAcquire(host, token, 2, 30_000));
    expect(answers.map((a) => a.acquired)).toEqual([true, true, false]);
    expect(answers[2]).toEqual({ acquired: false, reason: 'busy', waitMs: 0 });
    expect(await sut.held(host)).toBe(2);
    await sut.release(host, 'a');
    expect(await sut.tryAcquire(host, 'c', 2, 30_000)).toEqual({ acquired: true });
    expect(await sut.held(host)).toBe(2);
  });

  it.each([1, 2, 4, 7])('never grants more than %i of 40 simultaneous requests from 8 workers', async (max) => {
    const host = newHost();
    const workers = Array.from({ length: 8 }, worker);
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => workers[i % 8].tryAcquire(host, `t${i}`, max, 30_000)));
    expect(answers.filter((a) => a.acquired)).toHaveLength(max);
    expect(await sut.held(host)).toBe(max);
  });

  it('keeps the limit through interleaved acquires and releases: every grant finds fewer than max held', async () => {
    const host = newHost();
    const max = 3;
    const workers = Array.from({ length: 4 }, worker);
    let granted = 0;
    const mostHeld: number[] = [];
    await Promise.all(
      workers.map(async (w, n) => {
        for (let round = 0; round < 25; round++) {
          const token = `w${n}-${round}`;
          if (!(await w.tryAcquire(host, token, max, 30_000)).acquired) continue;
          granted++;
          mostHeld.push(await sut.held(host));
          await w.release(host, token);
        }
      }),
    );
    expect(granted).toBeGreaterThan(max);
    expect(Math.max(...mostHeld)).toBeLessThanOrEqual(max);
    expect(await sut.held(host)).toBe(0);
  });

  it('frees a slot whose lease ran out (its worker died), and a renewed one stays', async () => {
    const host = newHost();
    expect((await sut.tryAcquire(host, 'dead', 2, 300)).acquired).toBe(true);
    expect((await sut.tryAcquire(host, 'alive', 2, 300)).acquired).toBe(true);
    expect((await sut.tryAcquire(host, 'next', 2, 300)).acquired).toBe(false);
    const renewals = setInterval(() => void sut.renew(host, 'alive', 2, 300), 100);
    try {
      await waitFor(
        'the dead slot to lapse',
        async () => ((await sut.tryAcquire(host, 'next', 2, 300)).acquired ? true : undefined),
        3_000,
        50,
      );
      expect((await redis.zrange(slotsKey(host), 0, -1)).sort()).toEqual(['alive', 'next']);
    } finally {
      clearInterval(renewals);
    }
  });

  it('renews a lapsed lease only while a slot is free, never above the limit', async () => {
    const host = newHost();
    expect((await sut.tryAcquire(host, 'slow', 1, 200)).acquired).toBe(true);
    await waitFor('the lease to lapse', async () => ((await sut.held(host)) === 0 ? true : undefined), 2_000, 50);
    expect(await sut.renew(host, 'slow', 1, 30_000)).toBe(true);
    expect(await sut.held(host)).toBe(1);
    await redis.zadd(slotsKey(host), 0, 'slow');
    expect((await sut.tryAcquire(host, 'other', 1, 30_000)).acquired).toBe(true);
    expect(await sut.renew(host, 'slow', 1, 30_000)).toBe(false);
    expect(await sut.held(host)).toBe(1);
  });

  it('refuses every slot while the host backs off, for as long as asked, then grants again', async () => {
    const host = newHost();
    const waitMs = await sut.backOff(host, 1_000, 30_000, 900_000);
    expect(waitMs).toBe(1_000);
    const refused = await sut.tryAcquire(host, 'x', 4, 30_000);
    expect(refused).toMatchObject({ acquired: false, reason: 'backoff' });
    expect((refused as { waitMs: number }).waitMs).toBeGreaterThan(0);
    expect((refused as { waitMs: number }).waitMs).toBeLessThanOrEqual(1_000);
    await waitFor('the backoff to end', async () => ((await sut.tryAcquire(host, 'x', 4, 30_000)).acquired ? true : undefined), 3_000, 50);
  });

  it('caps what a host asks, never shortens a running backoff, and doubles the default per new episode', async () => {
    const host = newHost();
    expect(await sut.backOff(host, 10_000_000, 1_000, 60_000)).toBe(60_000);
    // A shorter ask while a longer backoff runs keeps the longer one.
    expect(await sut.backOff(host, 1_000, 1_000, 60_000)).toBeGreaterThan(59_000);
    await redis.del(backoffKey(host));
    // Not said: min, then (once that ended) 2·min; a refusal during a backoff is the same episode.
    expect(await sut.backOff(host, null, 200, 60_000)).toBe(200);
    expect(await sut.backOff(host, null, 200, 60_000)).toBeLessThanOrEqual(200);
    await waitFor(
      'the first episode to end',
      async () => ((await sut.tryAcquire(host, 'y', 1, 1_000)).acquired ? true : undefined),
      2_000,
      50,
    );
    expect(await sut.backOff(host, null, 200, 60_000)).toBe(400);
  });
});

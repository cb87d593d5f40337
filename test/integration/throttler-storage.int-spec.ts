import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import Redis from 'ioredis';
import { loadConfig } from '@archiver/config';
import { RedisThrottlerStorage, redisOptions } from '@archiver/queue';
import { closeAll } from '@archiver/testing';

// The rate limit's counters on the real Redis. Calls that arrive together are counted in one
// script run (RedisThrottlerStorage batches them): whatever the mix, exactly `limit` calls of
// a key pass per window, across processes, as if every call had come alone.
describe('RedisThrottlerStorage on the real Redis', () => {
  const config = loadConfig();
  // Two frontend processes: their own connections, their own batches.
  const connections = [0, 1].map(() => new Redis({ ...redisOptions(config.redis.url, 'producer'), enableAutoPipelining: true }));
  const storages = connections.map((redis) => new RedisThrottlerStorage(redis));
  const run = randomUUID();
  const NAME = `test-${run}`;

  // Producer connections do not queue commands while connecting (fail fast); a frontend's is up
  // long before its first request.
  beforeAll(() => Promise.all(connections.map((redis) => (redis.status === 'ready' ? undefined : once(redis, 'ready')))));

  afterAll(async () => {
    try {
      const keys = await connections[0].keys(`archiver:throttle:${NAME}:*`);
      if (keys.length > 0) await connections[0].del(...keys);
    } finally {
      await closeAll(...connections.map((redis) => redis.quit()));
    }
  });

  const hit = (storage: RedisThrottlerStorage, key: string, limit: number, ttlMs = 60_000, blockMs = 60_000) =>
    storage.increment(key, ttlMs, limit, blockMs, NAME);

  it('lets exactly `limit` of a burst through, each with its own hit number, and blocks the rest', async () => {
    const records = await Promise.all(Array.from({ length: 50 }, () => hit(storages[0], 'burst', 20)));
    const passed = records.filter((r) => !r.isBlocked);
    expect(passed.map((r) => r.totalHits).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    for (const blocked of records.filter((r) => r.isBlocked)) {
      expect(blocked.totalHits).toBeGreaterThan(20);
      expect(blocked.timeToBlockExpire).toBeGreaterThanOrEqual(59);
    }
    // Once blocked, a call is refused without counting.
    const before = Number(await connections[0].get(`archiver:throttle:${NAME}:burst`));
    expect(await hit(storages[0], 'burst', 20)).toMatchObject({ isBlocked: true, totalHits: before });
    expect(Number(await connections[0].get(`archiver:throttle:${NAME}:burst`))).toBe(before);
  });

  it('holds one budget across two processes and keeps keys of one batch apart', async () => {
    const shared = await Promise.all(Array.from({ length: 60 }, (_, i) => hit(storages[i % 2], 'shared', 25)));
    expect(shared.filter((r) => !r.isBlocked)).toHaveLength(25);

    const keys = Array.from({ length: 10 }, (_, k) => `user-${k}`);
    const mixed = await Promise.all(keys.flatMap((key) => [0, 1, 2].map((i) => hit(storages[i % 2], key, 2).then((r) => ({ key, r })))));
    for (const key of keys) expect(mixed.filter((m) => m.key === key && !m.r.isBlocked)).toHaveLength(2);
  });

  it('counts anew once the window and the block have expired', async () => {
    const first = await Promise.all(Array.from({ length: 4 }, () => hit(storages[0], 'window', 3, 300, 300)));
    expect(first.filter((r) => r.isBlocked)).toHaveLength(1);
    // Bounded: both expire after 300 ms.
    let again = await hit(storages[1], 'window', 3, 300, 300);
    for (let tries = 0; tries < 50 && again.isBlocked; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      again = await hit(storages[1], 'window', 3, 300, 300);
    }
    expect(again).toMatchObject({ isBlocked: false, totalHits: 1 });
  });
});

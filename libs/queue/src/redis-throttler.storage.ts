import { Logger } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import type Redis from 'ioredis';

/**
 * A fixed window per key, counted in Redis so every frontend process shares it: INCR the
 * window's counter (its expiry set by the first hit), and once it passes the limit, set a block
 * key for the block duration; while that key lives every call is refused without counting. One
 * script, so the check and the count are atomic across processes.
 */
const INCREMENT = `
local blocked = redis.call('PTTL', KEYS[2])
if blocked > 0 then
  return {tonumber(redis.call('GET', KEYS[1]) or ARGV[2]), redis.call('PTTL', KEYS[1]), 1, blocked}
end
local hits = redis.call('INCR', KEYS[1])
if hits == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local window = redis.call('PTTL', KEYS[1])
if hits > tonumber(ARGV[2]) then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
  return {hits, window, 1, tonumber(ARGV[3])}
end
return {hits, window, 0, 0}
`;

const KEY_PREFIX = 'archiver:throttle:';

type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/** The script as a command of the client (ioredis sends EVALSHA, and the script once on NOSCRIPT). */
const COMMAND = 'archiverThrottleIncrement';
type WithIncrement = Redis & {
  [COMMAND](counter: string, blockKey: string, ttlMs: string, limit: string, blockMs: string): Promise<[number, number, number, number]>;
};

/**
 * @nestjs/throttler's storage in Redis. If Redis cannot be asked, the request is let through
 * (and logged): limits protect the service, and a Redis outage must not stop submissions that
 * Postgres records and the reconciler queues anyway.
 */
export class RedisThrottlerStorage implements ThrottlerStorage {
  private readonly logger = new Logger(RedisThrottlerStorage.name);

  private readonly redis: WithIncrement;

  constructor(redis: Redis) {
    redis.defineCommand(COMMAND, { numberOfKeys: 2, lua: INCREMENT });
    this.redis = redis as WithIncrement;
  }

  async increment(
    key: string,
    ttlMs: number,
    limit: number,
    blockDurationMs: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    const counter = `${KEY_PREFIX}${throttlerName}:${key}`;
    try {
      const [hits, windowMs, blocked, blockMs] = await this.redis[COMMAND](
        counter,
        `${counter}:blocked`,
        String(ttlMs),
        String(limit),
        String(Math.max(1, blockDurationMs)),
      );
      return {
        totalHits: hits,
        timeToExpire: Math.max(0, Math.ceil(windowMs / 1000)),
        isBlocked: blocked === 1,
        timeToBlockExpire: Math.max(1, Math.ceil(blockMs / 1000)),
      };
    } catch (error) {
      this.logger.warn({
        msg: 'rate limit not checked: Redis did not answer; letting the request through',
        error: (error as Error).message,
      });
      return { totalHits: 0, timeToExpire: 0, isBlocked: false, timeToBlockExpire: 0 };
    }
  }
}

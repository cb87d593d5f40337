import { Logger } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import type Redis from 'ioredis';
import { coalescedBatches } from '@archiver/batching';

/**
 * A fixed window per key, counted in Redis so every frontend process shares it: INCRBY the
 * window's counter by the calls that arrived together for it (its expiry set by the first
 * hit), and once it passes the limit, set a block key for the block duration; while that key
 * lives every call is refused without counting. One script for a batch of keys, so each check
 * and count is atomic across processes. Per key it returns the count after this batch, the
 * window's and the block's time left (0: not blocked), and whether the key was blocked before
 * the batch (then none of its calls counted). A call whose own hit number passes the limit is
 * refused, exactly as if the calls had come one at a time.
 */
const INCREMENT = `
local out = {}
for i = 1, #KEYS / 2 do
  local counter, block = KEYS[2 * i - 1], KEYS[2 * i]
  local ttl, limit, blockMs, n = ARGV[4 * i - 3], tonumber(ARGV[4 * i - 2]), ARGV[4 * i - 1], tonumber(ARGV[4 * i])
  local blocked = redis.call('PTTL', block)
  if blocked > 0 then
    out[i] = {tonumber(redis.call('GET', counter) or limit), redis.call('PTTL', counter), blocked, 1}
  else
    local hits = redis.call('INCRBY', counter, n)
    if hits == n then redis.call('PEXPIRE', counter, ttl) end
    local left = 0
    if hits > limit then
      redis.call('SET', block, '1', 'PX', blockMs)
      left = tonumber(blockMs)
    end
    out[i] = {hits, redis.call('PTTL', counter), left, 0}
  end
end
return out
`;

const KEY_PREFIX = 'archiver:throttle:';

type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/** One call of increment, as the guard made it. */
interface Hit {
  counter: string;
  ttlMs: number;
  limit: number;
  blockMs: number;
}

/** The script as a command of the client (ioredis sends EVALSHA, and the script once on NOSCRIPT). */
const COMMAND = 'archiverThrottleIncrementMany';
type WithIncrement = Redis & {
  [COMMAND](keyCount: number, ...keysThenArgs: string[]): Promise<[number, number, number, number][]>;
};

// The requests of one event-loop turn ask Redis once (bench/README.md, Ingest: the limiter's
// round trip per request was most of what it cost a frontend that bounds the rate).
const INCREMENT_BATCHES = { inFlight: 2, maxBatchSize: 200 };

/**
 * @nestjs/throttler's storage in Redis. If Redis cannot be asked, the request is let through
 * (and logged): limits protect the service, and a Redis outage must not stop submissions that
 * Postgres records and the reconciler queues anyway.
 */
export class RedisThrottlerStorage implements ThrottlerStorage {
  private readonly logger = new Logger(RedisThrottlerStorage.name);

  private readonly redis: WithIncrement;

  private readonly hit = coalescedBatches((hits: readonly Hit[]) => this.incrementAll(hits), INCREMENT_BATCHES);

  constructor(redis: Redis) {
    redis.defineCommand(COMMAND, { lua: INCREMENT });
    this.redis = redis as WithIncrement;
  }

  increment(key: string, ttlMs: number, limit: number, blockDurationMs: number, throttlerName: string): Promise<ThrottlerStorageRecord> {
    return this.hit({ counter: `${KEY_PREFIX}${throttlerName}:${key}`, ttlMs, limit, blockMs: Math.max(1, blockDurationMs) });
  }

  /** Calls for the same key count in the order they came (the first call of a key sets its window and limit). */
  private async incrementAll(hits: readonly Hit[]): Promise<ThrottlerStorageRecord[]> {
    const byCounter = new Map<string, { first: Hit; calls: number[] }>();
    hits.forEach((hit, call) => {
      const group = byCounter.get(hit.counter);
      if (group) group.calls.push(call);
      else byCounter.set(hit.counter, { first: hit, calls: [call] });
    });
    const groups = [...byCounter.values()];
    try {
      const answers = await this.redis[COMMAND](
        groups.length * 2,
        ...groups.flatMap(({ first }) => [first.counter, `${first.counter}:blocked`]),
        ...groups.flatMap(({ first, calls }) => [String(first.ttlMs), String(first.limit), String(first.blockMs), String(calls.length)]),
      );
      const records: ThrottlerStorageRecord[] = [];
      groups.forEach(({ first, calls }, g) => {
        const [hitsAfter, windowMs, blockMs, wasBlocked] = answers[g];
        calls.forEach((call, j) => {
          const totalHits = wasBlocked === 1 ? hitsAfter : hitsAfter - calls.length + j + 1;
          const isBlocked = wasBlocked === 1 || totalHits > first.limit;
          records[call] = {
            totalHits,
            timeToExpire: Math.max(0, Math.ceil(windowMs / 1000)),
            isBlocked,
            timeToBlockExpire: isBlocked ? Math.max(1, Math.ceil(blockMs / 1000)) : 0,
          };
        });
      });
      return records;
    } catch (error) {
      this.logger.warn({
        msg: 'rate limit not checked: Redis did not answer; letting the request through',
        error: (error as Error).message,
      });
      return hits.map(() => ({ totalHits: 0, timeToExpire: 0, isBlocked: false, timeToBlockExpire: 0 }));
    }
  }
}

import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { APP_CONFIG, AppConfig } from '@archiver/config';
import { QueueError, QueueErrorCode, redisOptions } from '@archiver/queue';

/*
 * Every script reads the clock of Redis (TIME), not of the worker: leases and "not before"
 * times are compared by one clock however skewed the machines of many workers are.
 */
const NOW = `local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/**
 * KEYS: slots (sorted set: token → lease expiry), backoff (hash: until, level).
 * ARGV: token, max slots, lease ms. → {1, 0, 'acquired'} or {0, wait ms, 'backoff' | 'busy'}.
 * Expired leases (a dead worker's) are dropped before counting.
 */
const ACQUIRE = `${NOW}
local notBefore = tonumber(redis.call('HGET', KEYS[2], 'until') or '0')
if notBefore > now then return {0, notBefore - now, 'backoff'} end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return {0, 0, 'busy'} end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], 2 * tonumber(ARGV[3]))
return {1, 0, 'acquired'}`;

/**
 * KEYS: slots. ARGV: token, max slots, lease ms. → 1 renewed, 0 lost. A lease that lapsed (Redis
 * unreachable for a whole lease) is taken again only if a slot is free, never above the limit.
 */
const RENEW = `${NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], ARGV[1]) or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
  redis.call('PEXPIRE', KEYS[1], 2 * tonumber(ARGV[3]))
  return 1
end
return 0`;

/**
 * KEYS: backoff. ARGV: asked ms (-1: the host did not say), min ms, max ms. → ms until the host
 * may be contacted again. Asked: at least that long. Not asked: the same episode (a backoff still
 * running) keeps its time; a new one waits min·2^level and raises the level, which is forgotten
 * after a quiet `max` past the end of the backoff.
 */
const BACK_OFF = `${NOW}
local current = tonumber(redis.call('HGET', KEYS[1], 'until') or '0')
local level = tonumber(redis.call('HGET', KEYS[1], 'level') or '0')
local asked = tonumber(ARGV[1])
local untilMs
if asked >= 0 then
  untilMs = math.max(current, now + math.min(asked, tonumber(ARGV[3])))
elseif current > now then
  untilMs = current
else
  untilMs = now + math.min(tonumber(ARGV[3]), tonumber(ARGV[2]) * 2 ^ math.min(level, 30))
  level = level + 1
end
redis.call('HSET', KEYS[1], 'until', untilMs, 'level', level)
redis.call('PEXPIRE', KEYS[1], untilMs - now + tonumber(ARGV[3]))
return untilMs - now`;

/** KEYS: slots. → leases not yet expired. */
const HELD = `${NOW}
return redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')`;

export type SlotAnswer = { acquired: true } | { acquired: false; reason: 'busy' | 'backoff'; waitMs: number };

/**
 * The per-host semaphore and backoff in Redis, shared by every worker on every machine. Its own
 * connection with the producer's fail-fast settings (libs/queue redisOptions: one retry, a
 * command timeout): a Redis outage fails a call in seconds (the visit is postponed as for any outage of ours) instead of holding
 * the job. Keys carry the host in a hash tag, so one host's keys stay together on a Redis Cluster.
 */
@Injectable()
export class HostSlotsRepository implements OnApplicationShutdown {
  private readonly redis: Redis;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    // Queued while (re)connecting, so the first visits after a start do not fail for nothing;
    // the command timeout still bounds each call.
    this.redis = new Redis({ ...redisOptions(config.redis.url, 'producer'), enableOfflineQueue: true });
    // Failures surface on each call; an unhandled 'error' event would crash the process.
    this.redis.on('error', () => undefined);
  }

  async tryAcquire(host: string, token: string, max: number, leaseMs: number): Promise<SlotAnswer> {
    const [acquired, waitMs, reason] = (await this.eval(ACQUIRE, [slotsKey(host), backoffKey(host)], [token, max, leaseMs])) as [
      number,
      number,
      string,
    ];
    return acquired === 1 ? { acquired: true } : { acquired: false, reason: reason === 'backoff' ? 'backoff' : 'busy', waitMs };
  }

  async renew(host: string, token: string, max: number, leaseMs: number): Promise<boolean> {
    return (await this.eval(RENEW, [slotsKey(host)], [token, max, leaseMs])) === 1;
  }

  async release(host: string, token: string): Promise<void> {
    await this.call('release a host slot', () => this.redis.zrem(slotsKey(host), token));
  }

  /** Records that the host asked to wait (`askedMs`, or null: it did not say); returns how long from now. */
  async backOff(host: string, askedMs: number | null, minMs: number, maxMs: number): Promise<number> {
    return (await this.eval(BACK_OFF, [backoffKey(host)], [askedMs ?? -1, minMs, maxMs])) as number;
  }

  /** Slots of the host held now (leases not yet expired), for tests and operators. */
  async held(host: string): Promise<number> {
    return (await this.eval(HELD, [slotsKey(host)], [])) as number;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  private eval(script: string, keys: string[], args: (string | number)[]): Promise<unknown> {
    return this.call('use the host slots', () => this.redis.eval(script, keys.length, ...keys, ...args.map(String)));
  }

  private async call<T>(what: string, command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      throw new QueueError(QueueErrorCode.Unavailable, `Could not ${what} in Redis: ${(error as Error).message}`, { cause: error });
    }
  }
}

export function slotsKey(host: string): string {
  return `archiver:host:{${host}}:slots`;
}

export function backoffKey(host: string): string {
  return `archiver:host:{${host}}:backoff`;
}

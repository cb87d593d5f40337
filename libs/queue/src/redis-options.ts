import type { RedisOptions } from 'bullmq';

/** Who holds the connection: see redisOptions. */
export type RedisRole = 'producer' | 'consumer';

/**
 * ioredis options from a redis:// URL. Producers answering HTTP requests fail fast (no
 * offline queue, one retry) so a request never hangs on a Redis outage; consumers (the
 * injector and the worker) wait out an outage (`maxRetriesPerRequest: null`, which BullMQ
 * requires for its blocking connections anyway).
 */
export function redisOptions(url: string, role: RedisRole): RedisOptions {
  const parsed = new URL(url);
  const base: RedisOptions = {
    host: parsed.hostname,
    port: Number(parsed.port || 6379),
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    db: parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : 0,
    tls: parsed.protocol === 'rediss:' ? {} : undefined,
    connectTimeout: 5000,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  };
  return role === 'producer'
    ? { ...base, enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 5000 }
    : { ...base, maxRetriesPerRequest: null };
}

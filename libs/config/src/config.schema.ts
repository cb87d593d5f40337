import { z } from 'zod';

// Every setting the apps read, validated once at start. Names match scripts/env.sh and
// docker-compose.yml; README.md documents them.
const port = z.coerce.number().int().min(1).max(65535);
const url = z.url({ protocol: /^https?$/ });
const positiveInt = z.coerce.number().int().positive();
const list = z
  .string()
  .default('')
  .transform((value) =>
    value
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean),
  );

// `ip` or `ip:port`, IPv6 as `[ip]:port`: what node's dns Resolver#setServers accepts.
const dnsServer = z
  .string()
  .regex(
    /^(\d{1,3}(\.\d{1,3}){3}(:\d{1,5})?|[0-9a-f:]*:[0-9a-f:.]+|\[[0-9a-f:.]+\](:\d{1,5})?)$/i,
    'must be ip or ip:port (IPv6 as [ip]:port)',
  );

// `id:base64key,id:base64key`: AES-256 keys of stored credentials; the first encrypts, all decrypt.
const credentialKeys = list.pipe(
  z
    .array(
      z
        .string()
        .regex(/^[A-Za-z0-9_-]{1,32}:[A-Za-z0-9+/]+={0,2}$/, 'each key must be id:base64 (id: 1-32 letters, digits, - or _)')
        .transform((item) => {
          const [id, key] = item.split(':');
          return { id, key: Buffer.from(key, 'base64') };
        })
        .refine((item) => item.key.length === 32, 'each key must be 32 bytes (AES-256), base64-encoded'),
    )
    .refine((keys) => new Set(keys.map((k) => k.id)).size === keys.length, 'key ids must be unique'),
);

export const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  FRONTEND_PORT: port.default(3000),
  INJECTOR_PORT: port.default(3001),
  WORKER_PORT: port.default(3002),
  PUBLIC_URL: url.default('http://localhost:3000'),
  // Bounds on each HTTP connection (libs/runtime/src/http-server.ts says why each default).
  HTTP_HEADERS_TIMEOUT_SECONDS: positiveInt.default(10),
  HTTP_REQUEST_TIMEOUT_SECONDS: positiveInt.default(30),
  HTTP_IDLE_TIMEOUT_SECONDS: positiveInt.default(15),
  HTTP_KEEP_ALIVE_TIMEOUT_SECONDS: positiveInt.default(65),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgresql:// URL'),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// URL'),
  MINIO_ENDPOINT: url,
  MINIO_ACCESS_KEY: z.string().min(3),
  MINIO_SECRET_KEY: z.string().min(8),
  MINIO_REGION: z.string().default('us-east-1'),
  MINIO_CONSOLE_URL: url,
  KEYCLOAK_URL: url,
  KEYCLOAK_INTERNAL_URL: url.optional(),
  KEYCLOAK_REALM: z.string().min(1).default('archiver'),
  KEYCLOAK_API_CLIENT: z.string().min(1).default('archiver-api'),
  KEYCLOAK_WEB_CLIENT: z.string().min(1).default('archiver-web'),
  ARCHIVER_ALLOWED_HOSTS: list,
  ARCHIVER_WORK_DIR: z.string().min(1).optional(),
  CLONE_TIMEOUT_SECONDS: positiveInt.default(900),
  CLONE_MAX_BYTES: positiveInt.default(2 * 1024 ** 3),
  // RLIMIT_DATA of git and its helpers: an endless ref advertisement fails instead of eating the host.
  CLONE_MAX_MEMORY_BYTES: positiveInt.min(64 * 1024 ** 2).default(1024 ** 3),
  // Empty: the system resolver. Used for every user-chosen host (admission, clone, redirects).
  DNS_SERVERS: list.pipe(z.array(dnsServer)),
  WORKER_CONCURRENCY: positiveInt.default(2),
  // Which host a worker runs on, in the names of its temp dirs: a worker sweeps only its own
  // host's leftovers, also when several hosts share ARCHIVER_WORK_DIR. Default: the hostname.
  WORKER_HOST_ID: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._]{0,62}$/, 'letters, digits, dots and underscores (a hostname with - replaced by _), at most 63')
    .optional(),
  UPLOAD_CONCURRENCY: positiveInt.default(8),
  WORKER_LOCK_SECONDS: positiveInt.default(30),
  WORKER_LEASE_SECONDS: positiveInt.default(60),
  ARCHIVE_MAX_RUNS: positiveInt.default(10),
  // Local mirrors kept between visits (apps/worker/src/clone/mirror-cache.ts); 0 turns the cache off.
  WORKER_MIRROR_CACHE_BYTES: z.coerce
    .number()
    .int()
    .min(0)
    .default(10 * 1024 ** 3),
  // Politeness per upstream host (apps/worker/src/politeness): at most this many clones and
  // change probes at once per host across all workers, each slot held under a lease renewed
  // while it is used (a dead worker's slot frees after it); a host that answers 429 (or 503 with
  // Retry-After) is left alone as long as it asks, at most HOST_BACKOFF_MAX_SECONDS, and when it
  // does not say, for an exponential delay from HOST_BACKOFF_MIN_SECONDS up to that maximum.
  MAX_CLONES_PER_HOST: positiveInt.default(4),
  HOST_SLOT_LEASE_SECONDS: positiveInt.default(30),
  HOST_BACKOFF_MIN_SECONDS: positiveInt.default(30),
  HOST_BACKOFF_MAX_SECONDS: positiveInt.default(900),
  INJECTOR_CONCURRENCY: positiveInt.default(16),
  INJECTOR_LOCK_SECONDS: positiveInt.default(30),
  RECONCILE_INTERVAL_SECONDS: positiveInt.default(30),
  // A person may ask for an extra visit of a tracked repository at most this often.
  REPOSITORY_VISIT_COOLDOWN_SECONDS: positiveInt.default(300),
  // The scheduler of tracked repositories (apps/injector/src/schedule): how often it looks for
  // due repositories, and the bounds of the adaptive interval between visits (1 h and 30 days).
  SCHEDULER_INTERVAL_SECONDS: positiveInt.default(30),
  SCHEDULE_MIN_INTERVAL_SECONDS: positiveInt.default(3600),
  SCHEDULE_MAX_INTERVAL_SECONDS: positiveInt.default(720 * 3600),
  SCHEDULE_DISABLE_AFTER_FAILURES: positiveInt.default(3),
  // Incremental bundles (libs/storage bundle-chain.ts): a changed visit stores a full bundle
  // again (a checkpoint) once its chain would hold more bundles than this, or its increments
  // would add up to more than this share of the last full bundle.
  BUNDLE_CHAIN_MAX_DEPTH: positiveInt.default(30),
  BUNDLE_CHAIN_MAX_SHARE: z.coerce.number({ error: 'must be a number, e.g. 0.5' }).gt(0).max(100).default(0.5),
  // Git LFS: the stored tree's pointers always; every ref's tip too when true.
  LFS_ALL_REFS: z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .default('false')
    .transform((v) => v === 'true'),
  // Wall-clock budget of one LFS object's download (and upload to the bucket).
  LFS_OBJECT_TIMEOUT_SECONDS: positiveInt.default(600),
  // Restore drills (apps/injector/src/verify): how often the injector queues a sample of
  // completed snapshots for verification, and how many each time (0 turns the sampling off).
  VERIFY_INTERVAL_SECONDS: positiveInt.default(3600),
  VERIFY_SAMPLE_SIZE: z.coerce.number().int().min(0).default(5),
  // Prometheus metrics (libs/metrics): each app answers GET /metrics on its own listener, apart
  // from the API and outside Keycloak; a port of 0 turns an app's listener off. Off loopback the
  // listener needs METRICS_TOKEN (sent by Prometheus as `Authorization: Bearer <token>`).
  METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  FRONTEND_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  INJECTOR_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9465),
  WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9466),
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  // A tracked repository whose visit is due for longer than this counts as overdue (metrics, alerts).
  OVERDUE_AFTER_SECONDS: positiveInt.default(3600),
  // Per-user limits (apps/frontend/src/limits), counted in Redis across frontend processes; 0 = none.
  // Submissions: POST /api/archives, /api/archives/batch, /api/repositories and .../visits.
  SUBMISSIONS_PER_MINUTE: z.coerce.number().int().min(0).default(60),
  ADMIN_SUBMISSIONS_PER_MINUTE: z.coerce.number().int().min(0).default(0),
  MAX_TRACKED_REPOSITORIES_PER_USER: z.coerce.number().int().min(0).default(1000),
  // Bytes of content a user's completed archives hold; new submissions are refused past it.
  USER_STORED_BYTES_QUOTA: z.coerce.number().int().min(0).default(0),
  // Keys of repositories' credentials at rest (libs/credentials); empty: credentials cannot be set.
  CREDENTIAL_KEYS: credentialKeys,
  // Retention (apps/injector/src/schedule/prune-sweep.service.ts): how often the injector queues a
  // prune of each repository that has a retention policy (at most once per interval each).
  RETENTION_INTERVAL_SECONDS: positiveInt.default(24 * 3600),
  // Notifications (libs/webhooks): attempts per delivery, the first retry's delay (doubling each
  // time after), and how long one attempt may take before it counts as failed.
  WEBHOOK_MAX_ATTEMPTS: positiveInt.max(20).default(8),
  WEBHOOK_BACKOFF_MS: positiveInt.default(10_000),
  WEBHOOK_TIMEOUT_SECONDS: positiveInt.max(60).default(10),
  // Organization imports: each forge API page asked for, at most this many pages (bounds one import's listing).
  IMPORT_PAGE_SIZE: positiveInt.max(100).default(50),
  IMPORT_MAX_PAGES: positiveInt.max(1000).default(100),
  IMPORT_REQUEST_TIMEOUT_SECONDS: positiveInt.max(120).default(30),
  IMPORT_MAX_RESPONSE_BYTES: positiveInt.max(64 * 1024 * 1024).default(8 * 1024 * 1024),
  // Push webhooks in (POST /api/hooks/push/:id): no new visit within this long of the last one
  // created, and at most this many hook requests per repository per minute (0 = no limit).
  PUSH_HOOK_COOLDOWN_SECONDS: z.coerce.number().int().min(0).default(60),
  PUSH_HOOKS_PER_MINUTE: z.coerce.number().int().min(0).default(60),
});

export type RawConfig = z.infer<typeof configSchema>;

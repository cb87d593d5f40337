import os from 'node:os';
import path from 'node:path';
import { configSchema, RawConfig } from './config.schema';

/** Typed settings, grouped by what uses them. */
export interface AppConfig {
  env: RawConfig['NODE_ENV'];
  logLevel: RawConfig['LOG_LEVEL'];
  http: {
    host: string;
    ports: { frontend: number; injector: number; worker: number };
    publicUrl: string;
    timeouts: { headersMs: number; requestMs: number; idleMs: number; keepAliveMs: number };
  };
  database: { url: string };
  redis: { url: string };
  minio: { endpoint: string; accessKey: string; secretKey: string; region: string; consoleUrl: string };
  keycloak: {
    /** The issuer base URL browsers and tokens use. */
    url: string;
    /** Where the apps reach Keycloak (differs from `url` inside Docker). */
    internalUrl: string;
    realm: string;
    apiClient: string;
    webClient: string;
  };
  clone: {
    allowedHosts: string[];
    /** DNS servers (`ip[:port]`) for users' hosts; empty means the system resolver. */
    dnsServers: string[];
    workDir: string;
    timeoutMs: number;
    maxBytes: number;
    /** Memory (RLIMIT_DATA) git and its helpers may use per clone. */
    maxMemoryBytes: number;
  };
  worker: {
    concurrency: number;
    uploadConcurrency: number;
    /** BullMQ's job lock: a dead worker's job moves on after about this long. */
    lockMs: number;
    /** A run's claim on its archive in the database; renewed while the run lives (ArchiveRepository.claimRun). */
    leaseMs: number;
    /** Runs an archive may start before it is failed: bounds crash loops and endless interruptions. */
    maxRuns: number;
    /** Size cap of the worker's local mirror cache (`<workDir>/mirrors`); 0 disables it. */
    mirrorCacheBytes: number;
    /** This worker's host, in its temp dirs' names (WorkDirs): PIDs mean something on their own host only. */
    hostId: string;
  };
  politeness: {
    /** Clones and change probes at once per upstream host, across all workers. */
    maxPerHost: number;
    /** A host slot's lease, renewed while it is held: a dead worker's slot frees after this long. */
    slotLeaseMs: number;
    /** A host that asks to slow down without saying for how long: exponential from min to max. */
    backoffMinMs: number;
    /** Also the cap of what a Retry-After may ask. */
    backoffMaxMs: number;
  };
  injector: { concurrency: number; lockMs: number };
  reconcileIntervalMs: number;
  /** Minimum time between a repository's last visit being created and an on-demand visit (POST /api/repositories/:id/visits). */
  repositoryVisitCooldownMs: number;
  schedule: {
    /** How often the injector claims due repositories. */
    tickMs: number;
    minIntervalSeconds: number;
    maxIntervalSeconds: number;
    /** Permanent failures (not found, private, refused URL) in a row that disable a repository. */
    disableAfterFailures: number;
  };
  lfs: {
    /** Fetch the LFS objects of every ref's tip, not only of the stored (HEAD) tree. */
    allRefs: boolean;
    /** Budget of one object's download and store. */
    objectTimeoutMs: number;
  };
  bundles: {
    /** Most bundles a snapshot's restore may need (the full checkpoint and its increments). */
    maxChainDepth: number;
    /** Most the increments of a chain may add up to, as a share of its full checkpoint bundle. */
    maxChainShare: number;
  };
  verify: {
    /** How often the injector queues a sample of completed snapshots for a restore drill. */
    tickMs: number;
    /** Snapshots per sample: never verified first, then the least recently checked. */
    sampleSize: number;
  };
  metrics: {
    /** Where each app's /metrics listener binds (apart from the API); loopback unless a token is set. */
    host: string;
    /** 0: that app serves no metrics. */
    ports: { frontend: number; injector: number; worker: number };
    /** Bearer token /metrics requires; null: none (only allowed on loopback). */
    token: string | null;
    /** A due visit this late makes its repository overdue. */
    overdueAfterSeconds: number;
  };
  /** Per-user limits; 0 means none. Admins have their own submission rate and no quotas. */
  limits: {
    submissionsPerMinute: number;
    adminSubmissionsPerMinute: number;
    maxTrackedRepositories: number;
    storedBytesQuota: number;
  };
  credentials: {
    /** AES-256 keys of stored credentials: the first encrypts new ciphertexts, every one decrypts. */
    keys: { id: string; key: Buffer }[];
  };
  retention: {
    /** How often each repository with a retention policy is pruned (at most). */
    intervalMs: number;
  };
  webhooks: {
    maxAttempts: number;
    /** Delay before the first retry; BullMQ doubles it for each one after. */
    backoffMs: number;
    timeoutMs: number;
  };
  imports: {
    /** Repositories asked for per forge API page. */
    pageSize: number;
    /** A listing with more pages fails IMPORT_TOO_MANY_PAGES rather than running on. */
    maxPages: number;
    requestTimeoutMs: number;
    maxResponseBytes: number;
  };
  pushHooks: {
    /** No visit is queued for a push within this long of the repository's newest visit. */
    cooldownMs: number;
    /** Hook requests per repository per minute; 0: no limit. */
    perMinute: number;
  };
}

export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`Invalid configuration:\n  ${issues.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

export function parseConfig(env: Record<string, string | undefined>): AppConfig {
  const result = configSchema.safeParse(env);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  }
  const c = result.data;
  if (c.SCHEDULE_MIN_INTERVAL_SECONDS > c.SCHEDULE_MAX_INTERVAL_SECONDS) {
    throw new ConfigError([
      `SCHEDULE_MIN_INTERVAL_SECONDS: must not exceed SCHEDULE_MAX_INTERVAL_SECONDS (${c.SCHEDULE_MAX_INTERVAL_SECONDS})`,
    ]);
  }
  if (c.METRICS_TOKEN === undefined && !isLoopbackHost(c.METRICS_HOST)) {
    throw new ConfigError([
      `METRICS_HOST: ${c.METRICS_HOST} is not a loopback address, so /metrics would be open to the network; set METRICS_TOKEN too`,
    ]);
  }
  if (c.HTTP_HEADERS_TIMEOUT_SECONDS > c.HTTP_REQUEST_TIMEOUT_SECONDS) {
    throw new ConfigError([
      `HTTP_HEADERS_TIMEOUT_SECONDS: must not exceed HTTP_REQUEST_TIMEOUT_SECONDS (${c.HTTP_REQUEST_TIMEOUT_SECONDS}), which bounds the whole request headers included`,
    ]);
  }
  return {
    env: c.NODE_ENV,
    logLevel: c.LOG_LEVEL,
    http: {
      host: c.HTTP_HOST,
      ports: { frontend: c.FRONTEND_PORT, injector: c.INJECTOR_PORT, worker: c.WORKER_PORT },
      publicUrl: c.PUBLIC_URL.replace(/\/$/, ''),
      timeouts: {
        headersMs: c.HTTP_HEADERS_TIMEOUT_SECONDS * 1000,
        requestMs: c.HTTP_REQUEST_TIMEOUT_SECONDS * 1000,
        idleMs: c.HTTP_IDLE_TIMEOUT_SECONDS * 1000,
        keepAliveMs: c.HTTP_KEEP_ALIVE_TIMEOUT_SECONDS * 1000,
      },
    },
    database: { url: c.DATABASE_URL },
    redis: { url: c.REDIS_URL },
    minio: {
      endpoint: c.MINIO_ENDPOINT,
      accessKey: c.MINIO_ACCESS_KEY,
      secretKey: c.MINIO_SECRET_KEY,
      region: c.MINIO_REGION,
      consoleUrl: c.MINIO_CONSOLE_URL.replace(/\/$/, ''),
    },
    keycloak: {
      url: c.KEYCLOAK_URL.replace(/\/$/, ''),
      internalUrl: (c.KEYCLOAK_INTERNAL_URL ?? c.KEYCLOAK_URL).replace(/\/$/, ''),
      realm: c.KEYCLOAK_REALM,
      apiClient: c.KEYCLOAK_API_CLIENT,
      webClient: c.KEYCLOAK_WEB_CLIENT,
    },
    clone: {
      allowedHosts: c.ARCHIVER_ALLOWED_HOSTS,
      dnsServers: c.DNS_SERVERS,
      workDir: c.ARCHIVER_WORK_DIR ?? path.join(os.tmpdir(), 'archiver'),
      timeoutMs: c.CLONE_TIMEOUT_SECONDS * 1000,
      maxBytes: c.CLONE_MAX_BYTES,
      maxMemoryBytes: c.CLONE_MAX_MEMORY_BYTES,
    },
    worker: {
      concurrency: c.WORKER_CONCURRENCY,
      uploadConcurrency: c.UPLOAD_CONCURRENCY,
      lockMs: c.WORKER_LOCK_SECONDS * 1000,
      leaseMs: c.WORKER_LEASE_SECONDS * 1000,
      maxRuns: c.ARCHIVE_MAX_RUNS,
      mirrorCacheBytes: c.WORKER_MIRROR_CACHE_BYTES,
      hostId: c.WORKER_HOST_ID ?? hostIdOf(os.hostname()),
    },
    politeness: {
      maxPerHost: c.MAX_CLONES_PER_HOST,
      slotLeaseMs: c.HOST_SLOT_LEASE_SECONDS * 1000,
      backoffMinMs: c.HOST_BACKOFF_MIN_SECONDS * 1000,
      backoffMaxMs: Math.max(c.HOST_BACKOFF_MIN_SECONDS, c.HOST_BACKOFF_MAX_SECONDS) * 1000,
    },
    injector: { concurrency: c.INJECTOR_CONCURRENCY, lockMs: c.INJECTOR_LOCK_SECONDS * 1000 },
    reconcileIntervalMs: c.RECONCILE_INTERVAL_SECONDS * 1000,
    repositoryVisitCooldownMs: c.REPOSITORY_VISIT_COOLDOWN_SECONDS * 1000,
    schedule: {
      tickMs: c.SCHEDULER_INTERVAL_SECONDS * 1000,
      minIntervalSeconds: c.SCHEDULE_MIN_INTERVAL_SECONDS,
      maxIntervalSeconds: c.SCHEDULE_MAX_INTERVAL_SECONDS,
      disableAfterFailures: c.SCHEDULE_DISABLE_AFTER_FAILURES,
    },
    lfs: { allRefs: c.LFS_ALL_REFS, objectTimeoutMs: c.LFS_OBJECT_TIMEOUT_SECONDS * 1000 },
    bundles: { maxChainDepth: c.BUNDLE_CHAIN_MAX_DEPTH, maxChainShare: c.BUNDLE_CHAIN_MAX_SHARE },
    verify: { tickMs: c.VERIFY_INTERVAL_SECONDS * 1000, sampleSize: c.VERIFY_SAMPLE_SIZE },
    metrics: {
      host: c.METRICS_HOST,
      ports: { frontend: c.FRONTEND_METRICS_PORT, injector: c.INJECTOR_METRICS_PORT, worker: c.WORKER_METRICS_PORT },
      token: c.METRICS_TOKEN ?? null,
      overdueAfterSeconds: c.OVERDUE_AFTER_SECONDS,
    },
    limits: {
      submissionsPerMinute: c.SUBMISSIONS_PER_MINUTE,
      adminSubmissionsPerMinute: c.ADMIN_SUBMISSIONS_PER_MINUTE,
      maxTrackedRepositories: c.MAX_TRACKED_REPOSITORIES_PER_USER,
      storedBytesQuota: c.USER_STORED_BYTES_QUOTA,
    },
    credentials: { keys: c.CREDENTIAL_KEYS },
    retention: { intervalMs: c.RETENTION_INTERVAL_SECONDS * 1000 },
    webhooks: { maxAttempts: c.WEBHOOK_MAX_ATTEMPTS, backoffMs: c.WEBHOOK_BACKOFF_MS, timeoutMs: c.WEBHOOK_TIMEOUT_SECONDS * 1000 },
    pushHooks: { cooldownMs: c.PUSH_HOOK_COOLDOWN_SECONDS * 1000, perMinute: c.PUSH_HOOKS_PER_MINUTE },
    imports: {
      pageSize: c.IMPORT_PAGE_SIZE,
      maxPages: c.IMPORT_MAX_PAGES,
      requestTimeoutMs: c.IMPORT_REQUEST_TIMEOUT_SECONDS * 1000,
      maxResponseBytes: c.IMPORT_MAX_RESPONSE_BYTES,
    },
  };
}

let cached: AppConfig | undefined;

/** The process's configuration: read from the environment once, then cached. */
export function loadConfig(): AppConfig {
  cached ??= parseConfig(process.env);
  return cached;
}

/** Whether a listen address only accepts connections from this host. */
function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** A hostname as a WORKER_HOST_ID: what the setting allows, the rest replaced by `_`. */
export function hostIdOf(hostname: string): string {
  const id = hostname
    .replace(/[^A-Za-z0-9.]/g, '_')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 63);
  return id === '' ? 'host' : id;
}

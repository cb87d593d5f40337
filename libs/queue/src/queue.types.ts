import type { JobsOptions } from 'bullmq';

/** Queue names. Never rename: they are stored in Redis and shared by producers and consumers. */
export enum QueueName {
  /** Recorded archives waiting for the injector. */
  Pending = 'pending',
  /** Injected archives waiting for a worker. */
  Archive = 'archive',
  /** Completed snapshots whose bundle chain a worker consolidates into one downloadable bundle. */
  Bundle = 'bundle',
  /** Completed snapshots a worker restores as a drill (on request, or sampled by the injector). */
  Verify = 'verify',
  /** Repositories with a retention policy whose old snapshots a worker prunes. */
  Prune = 'prune',
  /** Repositories an admin asked to remove with every snapshot (DELETE /api/repositories/:id?purge=true). */
  Purge = 'purge',
  /** Notifications: one job per webhook_delivery row, retried with backoff (libs/webhooks). */
  WebhookDelivery = 'webhook-delivery',
  /** Organization imports: a worker lists the forge and tracks each repository (POST /api/imports). */
  Import = 'import',
}

/** Payloads carry ids only; the archive row is the source of truth. */
export interface JobPayloads {
  [QueueName.Pending]: { archiveId: string };
  [QueueName.Archive]: { archiveId: string };
  [QueueName.Bundle]: { archiveId: string };
  [QueueName.Verify]: { archiveId: string };
  [QueueName.Prune]: { repositoryId: string };
  [QueueName.Purge]: { repositoryId: string };
  [QueueName.WebhookDelivery]: { deliveryId: string };
  [QueueName.Import]: { importId: string };
}

/** The job id: the row the job is about (archive, repository, delivery), so a duplicate enqueue of a live job is a no-op. */
export function jobIdOf(payload: JobPayloads[QueueName]): string {
  if ('archiveId' in payload) return payload.archiveId;
  if ('importId' in payload) return payload.importId;
  return 'deliveryId' in payload ? payload.deliveryId : payload.repositoryId;
}

export type JobPayload<Q extends QueueName> = JobPayloads[Q];

/**
 * Retries with backoff for failures of the repository's server (network, 5xx); permanent
 * ones fail at once (UnrecoverableError). Outages of our own infrastructure and interrupted
 * runs do not count as attempts: they are postponed (RetryLaterError), see ArchiverProcessor.
 */
export const JOB_OPTIONS: Record<QueueName, JobsOptions> = {
  [QueueName.Pending]: {
    attempts: 8,
    backoff: { type: 'exponential', delay: 1000 },
    removeOnComplete: { age: 24 * 3600, count: 10000 },
    removeOnFail: { age: 7 * 24 * 3600 },
  },
  [QueueName.Archive]: {
    attempts: 4,
    backoff: { type: 'exponential', delay: 5000 },
    removeOnComplete: { age: 24 * 3600, count: 10000 },
    removeOnFail: { age: 7 * 24 * 3600 },
  },
  // The result is an object in the bucket; a failed job stays a day so its reason can be shown.
  [QueueName.Bundle]: {
    attempts: 3,
    backoff: { type: 'exponential', delay: 5000 },
    removeOnComplete: { age: 3600, count: 1000 },
    removeOnFail: { age: 24 * 3600 },
  },
  // A drill records its own result (pass or the exact failure) on the archive; the job only
  // fails for our own outages, which are worth a retry.
  [QueueName.Verify]: {
    attempts: 3,
    backoff: { type: 'exponential', delay: 5000 },
    removeOnComplete: { age: 3600, count: 1000 },
    removeOnFail: { age: 24 * 3600 },
  },
  // A prune that fails stays a day so its reason can be read (GET .../retention/preview shows the last prune).
  [QueueName.Prune]: {
    attempts: 3,
    backoff: { type: 'exponential', delay: 5000 },
    removeOnComplete: { age: 3600, count: 1000 },
    removeOnFail: { age: 24 * 3600 },
  },
  // Every step of a purge can run again; storage or database hiccups are worth several tries.
  [QueueName.Purge]: {
    attempts: 5,
    backoff: { type: 'exponential', delay: 5000 },
    removeOnComplete: { age: 3600, count: 1000 },
    removeOnFail: { age: 7 * 24 * 3600 },
  },
  // Attempts and backoff come from config (webhookJobOptions): a receiver's outage, not ours.
  [QueueName.WebhookDelivery]: {
    removeOnComplete: { age: 3600, count: 1000 },
    removeOnFail: { age: 24 * 3600 },
  },
  // A forge that is down is worth a few tries; every step of an import can run again (its items are idempotent).
  [QueueName.Import]: {
    attempts: 3,
    backoff: { type: 'exponential', delay: 5000 },
    removeOnComplete: { age: 3600, count: 1000 },
    removeOnFail: { age: 7 * 24 * 3600 },
  },
};

/** A delivery's job: attempts and the first retry's delay from libs/config (WEBHOOK_*), doubling after. */
export function webhookJobOptions(settings: { maxAttempts: number; backoffMs: number }): JobsOptions {
  return {
    ...JOB_OPTIONS[QueueName.WebhookDelivery],
    attempts: settings.maxAttempts,
    backoff: { type: 'exponential', delay: settings.backoffMs },
  };
}

/** States in which a job will still run (or is running): its archive needs nothing else. */
export const LIVE_JOB_STATES: ReadonlySet<string> = new Set(['active', 'waiting', 'delayed', 'prioritized', 'waiting-children']);

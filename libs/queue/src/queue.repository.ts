import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable } from '@nestjs/common';
import { Queue } from 'bullmq';
import { coalescedBatches } from '@archiver/batching';
import { QueueError, QueueErrorCode } from './queue.error';
import { APP_CONFIG, type AppConfig } from '@archiver/config';
import { JOB_OPTIONS, jobIdOf, JobPayload, LIVE_JOB_STATES, QueueName, webhookJobOptions } from './queue.types';

// A burst's jobs in few round trips; a second batch may leave while one is in Redis.
const ADD_BATCHES = { inFlight: 2, maxBatchSize: 200 };

/** The producer side of every queue: the only code that adds or removes jobs. */
@Injectable()
export class QueueRepository {
  private readonly queues: Record<QueueName, Queue>;
  private readonly adds: Record<QueueName, (payload: JobPayload<QueueName>) => Promise<void>>;

  constructor(
    @InjectQueue(QueueName.Pending) pending: Queue,
    @InjectQueue(QueueName.Archive) archive: Queue,
    @InjectQueue(QueueName.Bundle) bundle: Queue,
    @InjectQueue(QueueName.Verify) verify: Queue,
    @InjectQueue(QueueName.Prune) prune: Queue,
    @InjectQueue(QueueName.Purge) purge: Queue,
    @InjectQueue(QueueName.WebhookDelivery) webhookDelivery: Queue,
    @InjectQueue(QueueName.Import) imports: Queue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.queues = {
      [QueueName.Pending]: pending,
      [QueueName.Archive]: archive,
      [QueueName.Bundle]: bundle,
      [QueueName.Verify]: verify,
      [QueueName.Prune]: prune,
      [QueueName.Purge]: purge,
      [QueueName.WebhookDelivery]: webhookDelivery,
      [QueueName.Import]: imports,
    };
    // Errors surface on each call and through /health; an unhandled 'error' event would crash the process.
    for (const queue of Object.values(this.queues)) queue.on('error', () => undefined);
    // Jobs added together go to Redis as one addBulk (one MULTI): under a burst of submissions
    // Redis and the frontend handle one round trip for many jobs instead of one each.
    this.adds = Object.fromEntries(
      Object.values(QueueName).map((queue) => [
        queue,
        coalescedBatches((payloads: readonly JobPayload<QueueName>[]) => this.addAll(queue, payloads), ADD_BATCHES),
      ]),
    ) as QueueRepository['adds'];
  }

  /** Adds the job with its row's id as job id, so a duplicate enqueue of a live job is a no-op. */
  async enqueue<Q extends QueueName>(queue: Q, payload: JobPayload<Q>): Promise<void> {
    await this.call(queue, 'queue the job', () => this.adds[queue](payload));
  }

  /** All or nothing: addBulk is one MULTI, so every caller of the batch gets its outcome. */
  private async addAll(queue: QueueName, payloads: readonly JobPayload<QueueName>[]): Promise<void[]> {
    const options = this.optionsOf(queue);
    await this.queues[queue].addBulk(payloads.map((data) => ({ name: queue, data, opts: { ...options, jobId: jobIdOf(data) } })));
    return payloads.map(() => undefined);
  }

  /**
   * Makes sure the archive has a job that will run: nothing when one is waiting, delayed or
   * active; otherwise a finished (failed or completed) job holding the id is removed first —
   * BullMQ silently ignores an add whose id a finished job still holds. Returns whether a
   * job was added.
   */
  async ensureJob<Q extends QueueName>(queue: Q, payload: JobPayload<Q>): Promise<boolean> {
    const jobs = this.queues[queue];
    return this.call(queue, 'requeue the job', async () => {
      const jobId = jobIdOf(payload);
      const state = await jobs.getJobState(jobId);
      if (LIVE_JOB_STATES.has(state)) return false;
      if (state !== 'unknown') await jobs.remove(jobId);
      await jobs.add(queue, payload, { ...this.optionsOf(queue), jobId });
      return true;
    });
  }

  /** `active`, `waiting`, `delayed`, `failed`, `completed`... or `unknown` when there is no such job. */
  jobState(queue: QueueName, archiveId: string): Promise<string> {
    return this.call(queue, 'read the job', () => this.queues[queue].getJobState(archiveId));
  }

  /** Why the job failed (its last attempt's error), or null. */
  failedReason(queue: QueueName, archiveId: string): Promise<string | null> {
    return this.call(queue, 'read the job', async () => (await this.queues[queue].getJob(archiveId))?.failedReason ?? null);
  }

  /**
   * How long the oldest job ready to run has waited (ms); 0 when none waits. Both ends of the
   * wait list are read, so the answer does not depend on which end BullMQ calls oldest.
   */
  oldestWaitingAgeMs(queue: QueueName): Promise<number> {
    return this.call(queue, 'read the oldest job', async () => {
      const ends = await Promise.all([true, false].map((asc) => this.queues[queue].getJobs(['waiting', 'prioritized'], 0, 0, asc)));
      const stamps = ends.flat().map((job) => job.timestamp);
      return stamps.length === 0 ? 0 : Math.max(0, Date.now() - Math.min(...stamps));
    });
  }

  counts(queue: QueueName): Promise<Record<string, number>> {
    return this.call(queue, 'count jobs', () => this.queues[queue].getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed'));
  }

  /** A real round trip to Redis through BullMQ's public API (the connection itself is BullMQ's). */
  async ping(): Promise<boolean> {
    try {
      await this.queues[QueueName.Pending].getJobCounts('waiting');
      return true;
    } catch {
      return false;
    }
  }

  private optionsOf(queue: QueueName) {
    return queue === QueueName.WebhookDelivery ? webhookJobOptions(this.config.webhooks) : JOB_OPTIONS[queue];
  }

  private async call<T>(queue: QueueName, what: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw new QueueError(QueueErrorCode.Unavailable, `Could not ${what} on "${queue}": ${(error as Error).message}`, { cause: error });
    }
  }
}

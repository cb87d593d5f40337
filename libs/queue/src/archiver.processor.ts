import { OnWorkerEvent, WorkerHost } from '@nestjs/bullmq';
import { BeforeApplicationShutdown, Inject, Logger, OnApplicationShutdown } from '@nestjs/common';
import { DelayedError, Job } from 'bullmq';
import { LogContext } from '@archiver/logging';
import { RetryLaterError } from './queue.error';
import { jobIdOf, JobPayload, QueueName } from './queue.types';

export interface JobContext {
  /** 1 on the first try. */
  attempt: number;
  maxAttempts: number;
  /** True when a failure now would be final (no retry left). */
  lastAttempt: boolean;
  /**
   * Aborted when this process must stop working on the job: it is shutting down, or it lost
   * the job's lock (another worker may take the job). Its reason is one of INTERRUPTED.
   */
  signal: AbortSignal;
}

/** Reasons a job's signal is aborted with. */
export const INTERRUPTED = {
  shutdown: 'the worker is shutting down',
  lockLost: 'the worker lost the job’s lock (Redis unreachable or the job was taken over)',
} as const;

/**
 * Base of the apps' `@Processor` classes (one call into a service each). It gives the handler
 * a context with an AbortSignal that fires on shutdown and on a lost lock, and turns a
 * RetryLaterError into a postponement that does not count as an attempt.
 *
 * A lost lock is noticed two ways: BullMQ reports a renewal Redis refused
 * (`lockRenewalFailed`), and a watchdog notices when no renewal has succeeded for a whole
 * lock duration (Redis unreachable: then the lock has expired and another worker may start
 * the job once Redis is back).
 */
export abstract class ArchiverProcessor<Q extends QueueName>
  extends WorkerHost
  implements BeforeApplicationShutdown, OnApplicationShutdown
{
  protected readonly logger = new Logger(this.constructor.name);
  // A property, so the apps' processors keep their constructors.
  @Inject(LogContext) private readonly logContext!: LogContext;
  private readonly lockSeenAt = new Map<string, number>();
  private watchdog?: NodeJS.Timeout;

  protected constructor(private readonly lockMs: number) {
    super();
  }

  protected abstract handle(payload: JobPayload<Q>, context: JobContext): Promise<void>;

  // Three parameters: BullMQ passes the job's AbortSignal only to a processor that declares it.
  async process(job: Job<JobPayload<Q>>, token?: string, signal?: AbortSignal): Promise<void> {
    const id = job.id ?? '';
    this.lockSeenAt.set(id, Date.now());
    this.startWatchdog();
    const maxAttempts = job.opts.attempts ?? 1;
    const attempt = job.attemptsMade + 1;
    // Every line logged while the job runs (here, in the service, in what it starts) carries these.
    const fields = {
      ...('archiveId' in job.data ? { archiveId: job.data.archiveId } : { jobId: jobIdOf(job.data) }),
      queue: job.queueName,
      attempt,
    };
    await this.logContext.run(fields, async () => {
      const startedAt = Date.now();
      this.logger.debug({ msg: 'job started', maxAttempts });
      try {
        await this.handle(job.data, {
          attempt,
          maxAttempts,
          lastAttempt: attempt >= maxAttempts,
          signal: signal ?? new AbortController().signal,
        });
      } catch (error) {
        if (!(error instanceof RetryLaterError)) throw error;
        this.logger.log({ msg: 'job postponed; no attempt counted', jobId: id, reason: error.message, delayMs: error.delayMs });
        // Without our lock (lost) this fails, and the job is already another worker's to run.
        await job.moveToDelayed(Date.now() + error.delayMs, token);
        throw new DelayedError();
      } finally {
        this.lockSeenAt.delete(id);
        this.logger.debug({ msg: 'job ended', durationMs: Date.now() - startedAt });
      }
    });
  }

  @OnWorkerEvent('locksRenewed')
  onLocksRenewed({ jobIds }: { jobIds: string[] }): void {
    const now = Date.now();
    for (const id of jobIds) if (this.lockSeenAt.has(id)) this.lockSeenAt.set(id, now);
  }

  @OnWorkerEvent('lockRenewalFailed')
  onLockRenewalFailed(jobIds: string[]): void {
    for (const id of jobIds) this.cancel(id, INTERRUPTED.lockLost);
  }

  @OnWorkerEvent('error')
  onWorkerError(error: Error): void {
    this.logger.warn({ msg: 'queue connection error', queue: this.worker.name, error: error.message });
  }

  @OnWorkerEvent('failed')
  onFailed(job: Job | undefined, error: Error): void {
    this.logger.warn({
      msg: 'job attempt failed',
      queue: this.worker.name,
      jobId: job?.id,
      attempt: job?.attemptsMade,
      error: error.message,
    });
  }

  /** Runs before @nestjs/bullmq closes the worker (which waits for running jobs): stop them now. */
  beforeApplicationShutdown(): void {
    this.worker.cancelAllJobs(INTERRUPTED.shutdown);
  }

  onApplicationShutdown(): void {
    clearInterval(this.watchdog);
  }

  private startWatchdog(): void {
    if (this.watchdog) return;
    this.watchdog = setInterval(
      () => {
        const now = Date.now();
        for (const [id, seenAt] of this.lockSeenAt) if (now - seenAt > this.lockMs) this.cancel(id, INTERRUPTED.lockLost);
      },
      Math.max(250, this.lockMs / 4),
    );
    this.watchdog.unref();
  }

  private cancel(jobId: string, reason: string): void {
    if (this.worker.cancelJob(jobId, reason)) this.logger.warn({ msg: 'stopping a job', jobId, reason });
  }
}

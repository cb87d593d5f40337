import { Logger, OnApplicationShutdown } from '@nestjs/common';
import { Job, UnrecoverableError, Worker } from 'bullmq';
import { AppConfig } from '@archiver/config';
import { JobPayload, QueueName } from './queue.types';
import { redisOptions } from './redis-options';

export interface JobContext {
  /** 1 on the first try. */
  attempt: number;
  /** True when a failure now would be final (no retry left). */
  lastAttempt: boolean;
}

/** Thrown by a handler for a failure that retrying cannot fix. */
export class PermanentJobError extends UnrecoverableError {}

/**
 * Base for the processors of the apps: starts one BullMQ Worker for its queue when the
 * app boots and closes it (letting the current jobs finish) on shutdown. Subclasses are
 * one call into a service, which keeps the logic testable without Redis.
 */
export abstract class QueueConsumer<Q extends QueueName> implements OnApplicationShutdown {
  protected readonly logger = new Logger(this.constructor.name);
  private worker?: Worker;

  protected constructor(
    private readonly queueName: Q,
    private readonly config: AppConfig,
  ) {}

  protected abstract handle(payload: JobPayload<Q>, context: JobContext): Promise<void>;

  /**
   * `lockMs`: how long a job stays claimed without a heartbeat; a worker that dies mid-job
   * (SIGKILL, OOM) releases its job to another worker after about this long.
   */
  start(concurrency: number, lockMs = 30_000): void {
    this.worker = new Worker<JobPayload<Q>>(this.queueName, (job) => this.handle(job.data, contextOf(job)), {
      connection: redisOptions(this.config.redis.url, 'worker'),
      concurrency,
      autorun: true,
      lockDuration: lockMs,
      stalledInterval: lockMs,
    });
    this.worker.on('error', (error) => this.logger.warn({ msg: 'queue connection error', queue: this.queueName, error: error.message }));
    this.worker.on('failed', (job, error) =>
      this.logger.warn({
        msg: 'job attempt failed',
        queue: this.queueName,
        jobId: job?.id,
        attempt: job?.attemptsMade,
        error: error.message,
      }),
    );
    this.logger.log({ msg: 'consuming', queue: this.queueName, concurrency });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.worker?.close();
  }
}

function contextOf(job: Job): JobContext {
  const attempt = job.attemptsMade + 1;
  return { attempt, lastAttempt: attempt >= (job.opts.attempts ?? 1) };
}

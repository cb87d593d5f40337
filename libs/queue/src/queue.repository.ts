import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { APP_CONFIG, AppConfig } from '@archiver/config';
import { QueueError, QueueErrorCode } from './queue.error';
import { JOB_OPTIONS, JobPayload, QueueName } from './queue.types';
import { redisOptions } from './redis-options';

/** The producer side of every queue: the only code that adds jobs. */
@Injectable()
export class QueueRepository implements OnModuleDestroy {
  private readonly connection: Redis;
  private readonly queues = new Map<QueueName, Queue>();

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.connection = new Redis(redisOptions(config.redis.url, 'producer'));
    // Errors surface on each enqueue and through /health; without a listener ioredis would crash the process.
    this.connection.on('error', () => undefined);
  }

  /** Adds the job with the archive id as job id, so a duplicate enqueue of a live job is a no-op. */
  async enqueue<Q extends QueueName>(queue: Q, payload: JobPayload<Q>): Promise<void> {
    try {
      await this.queue(queue).add(queue, payload, { ...JOB_OPTIONS[queue], jobId: payload.archiveId });
    } catch (error) {
      throw new QueueError(QueueErrorCode.Unavailable, `Could not queue the job on "${queue}": ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  async counts(queue: QueueName): Promise<Record<string, number>> {
    return this.queue(queue).getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed');
  }

  async ping(): Promise<boolean> {
    try {
      return (await this.connection.ping()) === 'PONG';
    } catch {
      return false;
    }
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.connection.disconnect();
  }

  private queue(name: QueueName): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.connection, skipWaitingForReady: true });
      queue.on('error', () => undefined);
      this.queues.set(name, queue);
    }
    return queue;
  }
}

import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@archiver/config';
import { ArchiveRepository } from '@archiver/database';
import { QueueName, QueueRepository } from '@archiver/queue';

const BATCH = 500;

/**
 * Closes the gap of the frontend's dual write (row in Postgres, job in Redis): an archive
 * left `pending` (Redis was down, or the process died between insert and enqueue) or
 * `queued` without its job is enqueued again. Job ids are archive ids, so re-adding a job
 * that still exists changes nothing, and several injectors may run this at once.
 */
@Injectable()
export class ReconcileService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ReconcileService.name);
  private timer?: NodeJS.Timeout;
  private running = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly archives: ArchiveRepository,
    private readonly queues: QueueRepository,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.tick(), this.config.reconcileIntervalMs);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** One pass; returns how many archives were re-enqueued. */
  async reconcile(now = new Date()): Promise<number> {
    const before = new Date(now.getTime() - this.config.reconcileIntervalMs);
    let count = 0;
    for (const [status, queue] of [
      ['pending', QueueName.Pending],
      ['queued', QueueName.Archive],
    ] as const) {
      for (const { id } of await this.archives.findStale(status, before, BATCH)) {
        await this.queues.enqueue(queue, { archiveId: id });
        count++;
      }
    }
    return count;
  }

  private async tick(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const count = await this.reconcile();
      if (count > 0) this.logger.log({ msg: 'reconciled archives', count });
    } catch (error) {
      this.logger.warn({ msg: 'reconcile pass failed; will retry', error: (error as Error).message });
    } finally {
      this.running = false;
    }
  }
}

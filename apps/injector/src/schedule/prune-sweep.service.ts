import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@archiver/config';
import { RetentionRepository } from '@archiver/database';
import { QueueName, QueueRepository } from '@archiver/queue';
import { PeriodicTask } from '../periodic/periodic-task';

/** Repositories queued per pass: a pass never floods the worker's prune queue. */
const SWEEP_LIMIT = 100;

/**
 * Retention: queues a prune of each repository that has a retention policy and was not pruned
 * for RETENTION_INTERVAL_SECONDS (or never). A prune still waiting is not queued twice (the job
 * id is the repository id); the worker records `lastPrunedAt`, which the next pass reads.
 */
@Injectable()
export class PruneSweepService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(PruneSweepService.name);
  private readonly task: PeriodicTask;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly retention: RetentionRepository,
    private readonly queues: QueueRepository,
  ) {
    // A pass per interval (at least hourly, so a repository given a policy waits at most that
    // long on a daily interval); findDue skips repositories pruned within the interval.
    const tickMs = Math.min(config.retention.intervalMs, 3_600_000);
    this.task = new PeriodicTask(this.logger, 'prunes queued', tickMs, async () => ({ queued: await this.sweep() }));
  }

  onApplicationBootstrap(): void {
    this.task.start();
  }

  onApplicationShutdown(): void {
    this.task.stop();
  }

  /** One pass: the number of prunes queued. */
  async sweep(): Promise<number> {
    const due = await this.retention.findDue(this.config.retention.intervalMs, SWEEP_LIMIT);
    let queued = 0;
    for (const repositoryId of due) {
      // A failed prune stays failed (its reason readable) until its job expires, a day: no retry storm.
      if ((await this.queues.jobState(QueueName.Prune, repositoryId)) === 'failed') continue;
      if (await this.queues.ensureJob(QueueName.Prune, { repositoryId })) queued++;
    }
    return queued;
  }
}

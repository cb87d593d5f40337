import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@archiver/config';
import { VerificationRepository } from '@archiver/database';
import { QueueName, QueueRepository } from '@archiver/queue';
import { PeriodicTask } from '../periodic/periodic-task';

/**
 * Scheduled restore drills: every VERIFY_INTERVAL_SECONDS, queues VERIFY_SAMPLE_SIZE completed
 * snapshots for the worker's verification job — never verified first, then the least recently
 * checked — so over time every stored snapshot is restored again, and damage in the bucket is
 * found before someone needs the snapshot. A snapshot whose drill is still waiting is not queued
 * twice (the job id is the archive id).
 */
@Injectable()
export class VerifySampleService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(VerifySampleService.name);
  private readonly task: PeriodicTask;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly verifications: VerificationRepository,
    private readonly queues: QueueRepository,
  ) {
    this.task = new PeriodicTask(this.logger, 'restore drills sampled', config.verify.tickMs, async () => ({
      queued: await this.sample(),
    }));
  }

  onApplicationBootstrap(): void {
    if (this.config.verify.sampleSize > 0) this.task.start();
  }

  onApplicationShutdown(): void {
    this.task.stop();
  }

  /** One pass: the number of drills queued. */
  async sample(): Promise<number> {
    const ids = await this.verifications.pickSample(this.config.verify.sampleSize);
    let queued = 0;
    for (const archiveId of ids) {
      if (await this.queues.ensureJob(QueueName.Verify, { archiveId })) queued++;
    }
    return queued;
  }
}

import { Processor } from '@nestjs/bullmq';
import { Inject } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@archiver/config';
import { ArchiverProcessor, JobContext, JobPayload, QueueName, workerOptions } from '@archiver/queue';
import { RepositoryPurger } from './repository-purger';

/** One purge at a time per worker: rare, admin-driven, and mostly deletes. */
@Processor(QueueName.Purge, workerOptions((config) => ({ ...config.worker, concurrency: 1 })))
export class PurgeProcessor extends ArchiverProcessor<QueueName.Purge> {
  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly purger: RepositoryPurger,
  ) {
    super(config.worker.lockMs);
  }

  protected handle({ repositoryId }: JobPayload<QueueName.Purge>, context: JobContext): Promise<void> {
    return this.purger.purge(repositoryId, context.signal);
  }
}

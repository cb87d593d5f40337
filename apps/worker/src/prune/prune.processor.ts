import { Processor } from '@nestjs/bullmq';
import { Inject } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@archiver/config';
import { ArchiverProcessor, JobContext, JobPayload, QueueName, workerOptions } from '@archiver/queue';
import { RepositoryPruner } from './repository-pruner';

/** One prune at a time per worker: it restores and bundles whole repositories, and is rare. */
@Processor(QueueName.Prune, workerOptions((config) => ({ ...config.worker, concurrency: 1 })))
export class PruneProcessor extends ArchiverProcessor<QueueName.Prune> {
  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly pruner: RepositoryPruner,
  ) {
    super(config.worker.lockMs);
  }

  protected handle({ repositoryId }: JobPayload<QueueName.Prune>, context: JobContext): Promise<void> {
    return this.pruner.prune(repositoryId, context.signal);
  }
}

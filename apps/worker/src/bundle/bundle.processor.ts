import { Processor } from '@nestjs/bullmq';
import { Inject } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@archiver/config';
import { ArchiverProcessor, JobContext, JobPayload, QueueName, workerOptions } from '@archiver/queue';
import { BundleConsolidator } from './bundle-consolidator';

/** One consolidation at a time per worker: it is rare, on request, and competes with visits for disk. */
@Processor(QueueName.Bundle, workerOptions((config) => ({ ...config.worker, concurrency: 1 })))
export class BundleProcessor extends ArchiverProcessor<QueueName.Bundle> {
  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly consolidator: BundleConsolidator,
  ) {
    super(config.worker.lockMs);
  }

  protected handle({ archiveId }: JobPayload<QueueName.Bundle>, context: JobContext): Promise<void> {
    return this.consolidator.consolidate(archiveId, context.signal);
  }
}

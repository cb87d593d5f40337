import { Processor } from '@nestjs/bullmq';
import { Inject } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@archiver/config';
import { ArchiverProcessor, JobContext, JobPayload, QueueName, workerOptions } from '@archiver/queue';
import { SnapshotVerifier } from './snapshot-verifier';

/** One drill at a time per worker: drills are background checks and must not crowd out visits. */
@Processor(QueueName.Verify, workerOptions((config) => ({ ...config.worker, concurrency: 1 })))
export class VerifyProcessor extends ArchiverProcessor<QueueName.Verify> {
  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly verifier: SnapshotVerifier,
  ) {
    super(config.worker.lockMs);
  }

  protected async handle({ archiveId }: JobPayload<QueueName.Verify>, context: JobContext): Promise<void> {
    await this.verifier.verify(archiveId, context.signal);
  }
}

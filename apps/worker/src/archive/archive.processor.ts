import { Processor } from '@nestjs/bullmq';
import { Inject, OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@archiver/config';
import { ArchiveRepository } from '@archiver/database';
import { ArchiverProcessor, JobContext, JobPayload, QueueName, workerOptions } from '@archiver/queue';
import { WorkDirs } from '../clone/work-dir';
import { SnapshotService } from './snapshot.service';

@Processor(QueueName.Archive, workerOptions((config) => config.worker))
export class ArchiveProcessor extends ArchiverProcessor<QueueName.Archive> implements OnApplicationBootstrap {
  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly service: SnapshotService,
    private readonly workDirs: WorkDirs,
    private readonly archives: ArchiveRepository,
  ) {
    super(config.worker.lockMs);
  }

  async onApplicationBootstrap(): Promise<void> {
    const swept = await this.workDirs.sweepDead();
    if (swept.length === 0) return;
    this.logger.log({ msg: 'removed temp dirs of dead workers', count: swept.length });
    // Their runs are provably over (their process is gone from this host): another run may
    // take those archives at once instead of waiting for the lease to expire.
    for (const { archiveId, runId } of swept) {
      if (runId) await this.archives.releaseRun(archiveId, runId).catch(() => undefined);
    }
  }

  protected handle({ archiveId }: JobPayload<QueueName.Archive>, context: JobContext): Promise<void> {
    return this.service.archive(archiveId, context);
  }
}

import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@archiver/config';
import { JobContext, JobPayload, QueueConsumer, QueueName } from '@archiver/queue';
import { ArchiveService } from './archive.service';

@Injectable()
export class ArchiveProcessor extends QueueConsumer<QueueName.Archive> implements OnApplicationBootstrap {
  constructor(
    @Inject(APP_CONFIG) private readonly appConfig: AppConfig,
    private readonly service: ArchiveService,
  ) {
    super(QueueName.Archive, appConfig);
  }

  async onApplicationBootstrap(): Promise<void> {
    const swept = await this.service.workDirs.sweepDead();
    if (swept > 0) this.logger.log({ msg: 'removed temp dirs of dead workers', count: swept });
    this.start(this.appConfig.worker.concurrency, this.appConfig.worker.lockMs);
  }

  protected handle({ archiveId }: JobPayload<QueueName.Archive>, context: JobContext): Promise<void> {
    return this.service.archive(archiveId, context);
  }
}

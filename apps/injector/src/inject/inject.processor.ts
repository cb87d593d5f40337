import { Processor } from '@nestjs/bullmq';
import { Inject } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@archiver/config';
import { ArchiverProcessor, JobPayload, QueueName, workerOptions } from '@archiver/queue';
import { InjectService } from './inject.service';

@Processor(QueueName.Pending, workerOptions((config) => config.injector))
export class InjectProcessor extends ArchiverProcessor<QueueName.Pending> {
  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly service: InjectService,
  ) {
    super(config.injector.lockMs);
  }

  protected handle({ archiveId }: JobPayload<QueueName.Pending>): Promise<void> {
    return this.service.inject(archiveId);
  }
}

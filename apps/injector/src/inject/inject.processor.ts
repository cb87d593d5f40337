import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@archiver/config';
import { JobPayload, QueueConsumer, QueueName } from '@archiver/queue';
import { InjectService } from './inject.service';

@Injectable()
export class InjectProcessor extends QueueConsumer<QueueName.Pending> implements OnApplicationBootstrap {
  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly service: InjectService,
  ) {
    super(QueueName.Pending, config);
  }

  onApplicationBootstrap(): void {
    this.start(16);
  }

  protected handle({ archiveId }: JobPayload<QueueName.Pending>): Promise<void> {
    return this.service.inject(archiveId);
  }
}

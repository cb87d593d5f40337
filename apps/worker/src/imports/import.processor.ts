import { Processor } from '@nestjs/bullmq';
import { Inject } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@archiver/config';
import { ImportRunner } from '@archiver/imports';
import { ArchiverProcessor, JobContext, JobPayload, QueueName, workerOptions } from '@archiver/queue';
import { HostPoliteness } from '../politeness/host-politeness';

/** Imports wait on a forge's API, one page at a time: two at once keep a big organization from holding every slot. */
@Processor(QueueName.Import, workerOptions((config) => ({ ...config.worker, concurrency: 2 })))
export class ImportProcessor extends ArchiverProcessor<QueueName.Import> {
  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly runner: ImportRunner,
    private readonly politeness: HostPoliteness,
  ) {
    super(config.worker.lockMs);
  }

  protected handle({ importId }: JobPayload<QueueName.Import>, context: JobContext): Promise<void> {
    // The forge's API counts toward its host's politeness budget, as its clones do.
    return this.runner.run(importId, { ...context, onForge: (baseUrl, work) => this.politeness.withHostSlot(baseUrl, work) });
  }
}

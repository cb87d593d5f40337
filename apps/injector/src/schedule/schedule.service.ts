import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { PeriodicTask } from '../periodic/periodic-task';
import { APP_CONFIG, AppConfig } from '@archiver/config';
import { ArchiveRepository } from '@archiver/database';
import { QueueName, QueueRepository } from '@archiver/queue';

/** Who requests a visit of a repository nobody tracks any more (it was due when they stopped). */
export const SCHEDULER_SUBJECT = 'scheduler';
const BATCH = 100;
/** Batches per pass: bounds one pass; what is left is due again at the next tick. */
const MAX_BATCHES = 50;

/**
 * Visits tracked repositories when they are due: every tick it claims due repositories and
 * creates a pending visit of each (ArchiveRepository.createScheduledVisits, safe with several
 * injectors), then queues them like any submitted archive. A visit whose job cannot be queued
 * (Redis down) stays pending, and the reconciler queues it later.
 */
@Injectable()
export class ScheduleService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ScheduleService.name);
  private readonly task: PeriodicTask;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly archives: ArchiveRepository,
    private readonly queues: QueueRepository,
  ) {
    this.task = new PeriodicTask(this.logger, 'scheduled visits', config.schedule.tickMs, async () => ({ count: await this.schedule() }));
  }

  onApplicationBootstrap(): void {
    this.task.start();
  }

  onApplicationShutdown(): void {
    this.task.stop();
  }

  /** One pass: the number of visits created. */
  async schedule(): Promise<number> {
    let created = 0;
    for (let batch = 0; batch < MAX_BATCHES; batch++) {
      const visits = await this.archives.createScheduledVisits(BATCH, SCHEDULER_SUBJECT);
      created += visits.length;
      for (const visit of visits) {
        await this.queues
          .enqueue(QueueName.Pending, { archiveId: visit.id })
          .catch((error: Error) => this.logger.warn({ msg: 'could not queue a visit; the reconciler will', error: error.message }));
      }
      if (visits.length < BATCH) break;
    }
    return created;
  }
}

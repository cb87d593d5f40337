import { Injectable, Logger } from '@nestjs/common';
import { ArchiveRepository, DatabaseError } from '@archiver/database';
import { QueueError, QueueName, QueueRepository, RetryLaterError } from '@archiver/queue';

/** How long an injection waits for the database or Redis to come back. */
const INFRASTRUCTURE_RETRY_MS = 5_000;

@Injectable()
export class InjectService {
  private readonly logger = new Logger(InjectService.name);

  constructor(
    private readonly archives: ArchiveRepository,
    private readonly queues: QueueRepository,
  ) {}

  /**
   * Stamps injectedAt and hands the archive to the workers. Safe to run twice: a retry
   * after a failed enqueue finds the archive already queued and enqueues again (the job
   * id dedupes), and an archive that moved on is left alone. An outage of the database or
   * Redis postpones the injection without using up its attempts.
   */
  async inject(archiveId: string): Promise<void> {
    try {
      const archive = (await this.archives.markQueued(archiveId, new Date())) ?? (await this.archives.findById(archiveId));
      if (!archive) {
        this.logger.warn({ msg: 'archive vanished before injection' });
        return;
      }
      if (archive.status !== 'queued') return;
      await this.queues.ensureJob(QueueName.Archive, { archiveId });
      this.logger.log({ msg: 'injected', url: archive.normalizedUrl });
    } catch (error) {
      if ((error instanceof DatabaseError || error instanceof QueueError) && error.transient) {
        throw new RetryLaterError(error.message, INFRASTRUCTURE_RETRY_MS, { cause: error });
      }
      throw error;
    }
  }
}

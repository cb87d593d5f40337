import { Injectable, Logger } from '@nestjs/common';
import { ArchiveRepository } from '@archiver/database';
import { QueueName, QueueRepository } from '@archiver/queue';

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
   * id dedupes), and an archive that moved on is left alone.
   */
  async inject(archiveId: string): Promise<void> {
    const archive = (await this.archives.markQueued(archiveId, new Date())) ?? (await this.archives.findById(archiveId));
    if (!archive) {
      this.logger.warn({ msg: 'archive vanished before injection', archiveId });
      return;
    }
    if (archive.status !== 'queued') return;
    await this.queues.enqueue(QueueName.Archive, { archiveId });
    this.logger.log({ msg: 'injected', archiveId, url: archive.normalizedUrl });
  }
}

import { HttpStatus, Injectable } from '@nestjs/common';
import type { AuthUser } from '@archiver/auth';
import { QueueName, QueueRepository } from '@archiver/queue';
import { ApiError, ApiErrorCode } from '../api/api.error';
import { ArchiveRequestsService } from './archive-requests.service';
import { toVerificationView, type VerifyRequestView } from './archive.view';

/** Restore drills on request: a worker job (SnapshotVerifier) records its result on the archive. */
@Injectable()
export class VerifyService {
  constructor(
    private readonly archives: ArchiveRequestsService,
    private readonly queues: QueueRepository,
  ) {}

  async request(id: string, user: AuthUser): Promise<VerifyRequestView> {
    const archive = await this.archives.findVisible(id, user);
    if (archive.status !== 'completed') {
      throw new ApiError(
        HttpStatus.CONFLICT,
        ApiErrorCode.NotVerifiable,
        `Archive ${id} is ${archive.status}: only a completed snapshot can be verified — try again once it has completed`,
      );
    }
    const queued = await this.queues.ensureJob(QueueName.Verify, { archiveId: id });
    return { queued, verification: toVerificationView(archive) };
  }
}

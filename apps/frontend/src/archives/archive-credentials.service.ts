import { HttpStatus, Injectable, Logger } from '@nestjs/common';
import type { AuthUser } from '@archiver/auth';
import { archiveCredentialBinding } from '@archiver/credentials';
import { ArchiveCredentialRepository } from '@archiver/database';
import { ApiError } from '../api/api.error';
import type { CredentialInput } from '../repositories/credential-input.dto';
import { RepositoryCredentialsService } from '../repositories/repository-credentials.service';
import type { SubmittedArchiveView } from './archive.view';
import { ArchiveRequestsService } from './archive-requests.service';

export const ArchiveCredentialErrorCode = { ActiveWithout: 'ARCHIVE_ACTIVE' } as const;

/**
 * A one-off archive with its own credential (POST /api/archives with `credential`): checked
 * exactly as a repository's (RepositoryCredentialsService), encrypted, stored with the archive
 * before it is queued, and used by the worker for that archive's clone only. Logs name the kind,
 * never a value.
 */
@Injectable()
export class ArchiveCredentialsService {
  private readonly logger = new Logger(ArchiveCredentialsService.name);

  constructor(
    private readonly archives: ArchiveRequestsService,
    private readonly credentials: RepositoryCredentialsService,
    private readonly store: ArchiveCredentialRepository,
  ) {}

  async submit(url: string, input: CredentialInput, user: AuthUser): Promise<SubmittedArchiveView> {
    const checked = await this.credentials.check(url, input);
    await this.store.dropFinished();
    return this.archives.submit(url, user, async (archive, created) => {
      if (!created) {
        // Its clone may be under way with another credential (or none): this one would be silently dropped.
        throw new ApiError(
          HttpStatus.CONFLICT,
          ArchiveCredentialErrorCode.ActiveWithout,
          `You already have an unfinished archive of ${url} (${archive.id}); wait for it to finish, then submit it again with the credential`,
        );
      }
      const ciphertext = this.credentials.encrypt(checked, archiveCredentialBinding(archive.id));
      await this.store.set(archive.id, { ciphertext, kind: checked.kind, sshHostKey: checked.sshHostKey ?? null });
      this.logger.log({ msg: 'archive credential set', archiveId: archive.id, kind: checked.kind, user: user.username });
    });
  }
}

import { HttpStatus, Injectable, Logger } from '@nestjs/common';
import type { AuthUser } from '@archiver/auth';
import { type Credential, CredentialCipher } from '@archiver/credentials';
import { RepositoryCredentialRepository, type TrackedRepositoryRecord } from '@archiver/database';
import { ApiError } from '../api/api.error';
import type { CredentialInput } from './repository.dto';

export const CredentialApiErrorCode = { AlreadySet: 'CREDENTIAL_ALREADY_SET' } as const;

/**
 * Sets, rotates and removes repositories' credentials: encrypted here (libs/credentials) before
 * anything is written, so the secret exists in clear only in this request's memory. Callers
 * check who may (trackers and admins); logs name the kind, never a value.
 */
@Injectable()
export class RepositoryCredentialsService {
  private readonly logger = new Logger(RepositoryCredentialsService.name);

  constructor(
    private readonly cipher: CredentialCipher,
    private readonly store: RepositoryCredentialRepository,
  ) {}

  async set(repositoryId: string, input: CredentialInput | null, user: AuthUser): Promise<void> {
    const stored = input && { ciphertext: this.cipher.encrypt(toCredential(input)), kind: input.kind };
    await this.store.set(repositoryId, stored);
    this.logger.log({
      msg: input ? 'repository credential set' : 'repository credential removed',
      repositoryId,
      kind: input?.kind,
      user: user.username,
    });
  }

  /**
   * Someone who does not track a repository yet may give it a credential only when it has none:
   * replacing a tracker's working credential is theirs (or an admin's) to do, with PATCH.
   */
  assertMaySetOnTrack(repository: Pick<TrackedRepositoryRecord, 'id' | 'credentialKind'>, alreadyTracks: boolean, user: AuthUser): void {
    if (repository.credentialKind === null || alreadyTracks || user.isAdmin) return;
    throw new ApiError(
      HttpStatus.CONFLICT,
      CredentialApiErrorCode.AlreadySet,
      `Repository ${repository.id} already has a credential, set by someone who tracks it; track it without one, or ask them (or an admin) to change it with PATCH /api/repositories/${repository.id}`,
    );
  }
}

function toCredential(input: CredentialInput): Credential {
  if (input.kind === 'basic') return { kind: 'basic', username: input.username, password: input.password };
  return input.username === undefined
    ? { kind: 'token', token: input.token }
    : { kind: 'token', token: input.token, username: input.username };
}

import { HttpStatus, Injectable, Logger } from '@nestjs/common';
import type { AuthUser } from '@archiver/auth';
import { type Credential, CredentialCipher } from '@archiver/credentials';
import { RepositoryCredentialRepository, type TrackedRepositoryRecord } from '@archiver/database';
import { checkSshPrivateKey, GitError, normalizeRepositoryUrl, parseHostKeys } from '@archiver/git';
import { ApiError } from '../api/api.error';
import type { CredentialInput } from './repository.dto';

/** A credential that passed `check`: what to encrypt, and the SSH host key (undefined: keep or scan; null: none, not SSH). */
export interface CheckedCredential {
  credential: Credential;
  kind: CredentialInput['kind'];
  sshHostKey: string | null | undefined;
}

export const CredentialApiErrorCode = { AlreadySet: 'CREDENTIAL_ALREADY_SET', Invalid: 'CREDENTIAL_INVALID' } as const;

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

  /**
   * Checks the credential fits the URL (an SSH key for an SSH URL, a token or password for
   * http(s)) and, for a key, that ssh can use it and the host key parses; 400 otherwise.
   */
  async set(repositoryId: string, url: string, input: CredentialInput | null, user: AuthUser): Promise<void> {
    let stored = null;
    if (input) {
      const checked = await this.check(url, input);
      const ciphertext = this.encrypt(checked, repositoryId);
      stored = {
        ciphertext,
        kind: input.kind,
        setBy: user.subject,
        ...(checked.sshHostKey !== undefined && { sshHostKey: checked.sshHostKey }),
      };
    }
    await this.store.set(repositoryId, stored);
    this.logger.log({
      msg: input ? 'repository credential set' : 'repository credential removed',
      repositoryId,
      kind: input?.kind,
      user: user.username,
    });
  }

  /**
   * The checks of `set`, before anything is stored: also for a one-off archive's own credential
   * (ArchiveCredentialsService), so both take exactly the same credentials.
   */
  async check(url: string, input: CredentialInput): Promise<CheckedCredential> {
    assertFitsUrl(input, url);
    const sshHostKey = input.kind === 'ssh' ? await checkedSshKeys(input) : null;
    return { credential: toCredential(input), kind: input.kind, sshHostKey };
  }

  /** `rowId`: what the ciphertext is bound to (a repository id, or `archive:<id>`); decrypting it for another fails. */
  encrypt(checked: CheckedCredential, rowId: string): string {
    return this.cipher.encrypt(checked.credential, rowId);
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

/** The pinned host key to store: normalised when given, undefined (keep the pinned one) when not. */
async function checkedSshKeys(input: Extract<CredentialInput, { kind: 'ssh' }>): Promise<string | undefined> {
  try {
    await checkSshPrivateKey(input.privateKey);
    return input.hostKey === undefined ? undefined : parseHostKeys(input.hostKey);
  } catch (error) {
    if (!(error instanceof GitError)) throw error;
    throw new ApiError(HttpStatus.BAD_REQUEST, CredentialApiErrorCode.Invalid, `credential: ${error.message}`);
  }
}

function assertFitsUrl(input: CredentialInput, url: string): void {
  const ssh = normalizeRepositoryUrl(url).protocol === 'ssh:';
  if (ssh === (input.kind === 'ssh')) return;
  throw new ApiError(
    HttpStatus.BAD_REQUEST,
    CredentialApiErrorCode.Invalid,
    ssh
      ? `${url} is an SSH URL: its credential must be an SSH key ({"kind": "ssh", "privateKey": "…"})`
      : `${url} is an http(s) URL: an SSH key cannot log in there; give a token or user name and password, or track the repository's SSH URL`,
  );
}

function toCredential(input: CredentialInput): Credential {
  // The host key is public: kept in its own column (RepositoryCredentialRepository), not in the ciphertext.
  if (input.kind === 'ssh') return { kind: 'ssh', privateKey: input.privateKey };
  if (input.kind === 'basic') return { kind: 'basic', username: input.username, password: input.password };
  return input.username === undefined
    ? { kind: 'token', token: input.token }
    : { kind: 'token', token: input.token, username: input.username };
}

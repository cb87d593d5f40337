import { Injectable } from '@nestjs/common';
import { type Credential, CredentialCipher, CredentialError, CredentialErrorCode, TOKEN_USERNAME } from '@archiver/credentials';
import { RepositoryCredentialRepository } from '@archiver/database';
import type { HttpCredential } from '@archiver/git';

/**
 * The repository's credential for one visit: decrypted here, in the worker's memory, and handed
 * to the git lib, which gives it to git only for the network calls of that visit (the change
 * probe, the clone or fetch). Never stored anywhere else, never logged.
 */
@Injectable()
export class VisitCredentials {
  constructor(
    private readonly cipher: CredentialCipher,
    private readonly store: RepositoryCredentialRepository,
  ) {}

  /** Undefined for a repository without one; records that it was used. */
  async forVisit(repositoryId: string): Promise<HttpCredential | undefined> {
    const stored = await this.store.find(repositoryId);
    if (!stored) return undefined;
    const credential = toHttpCredential(this.cipher.decrypt(stored.ciphertext));
    await this.store.markUsed(repositoryId);
    return credential;
  }
}

export function toHttpCredential(credential: Credential): HttpCredential {
  switch (credential.kind) {
    case 'token':
      return { username: credential.username ?? TOKEN_USERNAME, password: credential.token };
    case 'basic':
      return { username: credential.username, password: credential.password };
    case 'ssh':
      throw new CredentialError(
        CredentialErrorCode.INVALID,
        'This repository has an SSH key, but SSH URLs are not supported yet; set an HTTPS token instead',
      );
    case 'hmac':
      // Only webhook secrets have this kind; one stored as a git credential is a bug, not a login.
      throw new CredentialError(CredentialErrorCode.INVALID, 'This repository’s credential is a webhook secret, not a git credential');
  }
}

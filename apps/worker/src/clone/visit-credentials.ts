import { Injectable } from '@nestjs/common';
import { type Credential, CredentialCipher, CredentialError, CredentialErrorCode, TOKEN_USERNAME } from '@archiver/credentials';
import { RepositoryCredentialRepository } from '@archiver/database';
import { GitError, GitErrorCode, type HttpCredential, type RemoteCredential, type SshKeyCredential } from '@archiver/git';

/**
 * The repository's credential for one visit: decrypted here, in the worker's memory, and handed
 * to the git lib, which gives it to git only for the network calls of that visit (the change
 * probe, the clone or fetch). Never stored anywhere else, never logged. Once git succeeds with
 * it, whoever set it may read the repository's content (RepositoryCredentialRepository.grantContentAccess).
 */
@Injectable()
export class VisitCredentials {
  constructor(
    private readonly cipher: CredentialCipher,
    private readonly store: RepositoryCredentialRepository,
  ) {}

  /** Undefined for a repository without one; records that it was used. */
  async forVisit(repositoryId: string): Promise<RemoteCredential | undefined> {
    const stored = await this.store.find(repositoryId);
    if (!stored) return undefined;
    const credential = this.cipher.decrypt(stored.ciphertext, repositoryId);
    await this.store.markUsed(repositoryId);
    let granted = false;
    const onAccepted = async (): Promise<void> => {
      if (granted) return;
      granted = true;
      await this.store.grantContentAccess(repositoryId, stored.ciphertext);
    };
    if (credential.kind !== 'ssh') return { ...toHttpCredential(credential), onAccepted };
    return this.sshCredential(repositoryId, credential.privateKey, stored.sshHostKey, onAccepted);
  }

  /**
   * The key with the pinned host key; without one, the git lib scans it at the first call and
   * this stores it (trust on first use), so the visit's later calls and every later visit
   * insist on it.
   */
  private sshCredential(
    repositoryId: string,
    privateKey: string,
    pinned: string | null,
    onAccepted: () => Promise<void>,
  ): SshKeyCredential {
    const credential: { -readonly [K in keyof SshKeyCredential]: SshKeyCredential[K] } = { privateKey, onAccepted };
    if (pinned !== null) credential.hostKey = pinned;
    credential.onHostKeyPinned = async (scanned) => {
      if (!(await this.store.pinSshHostKey(repositoryId, scanned))) {
        // Someone pinned one meanwhile (a PATCH, a concurrent visit): that one rules.
        const now = (await this.store.find(repositoryId))?.sshHostKey;
        if (now !== scanned) {
          throw new GitError(
            GitErrorCode.HOST_KEY_CHANGED,
            'The SSH server presented a host key other than the one pinned for this repository while this visit ran; ' +
              'if the change is expected, PATCH the credential with the new "hostKey"',
          );
        }
      }
      credential.hostKey = scanned;
    };
    return credential;
  }
}

export function toHttpCredential(credential: Exclude<Credential, { kind: 'ssh' }>): HttpCredential {
  switch (credential.kind) {
    case 'token':
      return { username: credential.username ?? TOKEN_USERNAME, password: credential.token };
    case 'basic':
      return { username: credential.username, password: credential.password };
    case 'hmac':
      // Only webhook secrets have this kind; one stored as a git credential is a bug, not a login.
      throw new CredentialError(CredentialErrorCode.INVALID, 'This repository’s credential is a webhook secret, not a git credential');
  }
}

import { Injectable } from '@nestjs/common';
import {
  archiveCredentialBinding,
  type Credential,
  CredentialCipher,
  CredentialError,
  CredentialErrorCode,
  TOKEN_USERNAME,
} from '@archiver/credentials';
import { ArchiveCredentialRepository, RepositoryCredentialRepository } from '@archiver/database';
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
    private readonly archiveStore: ArchiveCredentialRepository,
  ) {}

  /**
   * The archive's own credential (a one-off archive submitted with one) if it has one, else the
   * repository's; undefined for neither. Records that the repository's was used.
   */
  async forVisit(repositoryId: string, archiveId?: string): Promise<RemoteCredential | undefined> {
    if (archiveId !== undefined) {
      const own = await this.forArchive(archiveId);
      if (own) return own;
    }
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
   * A one-off archive's credential, for its clone alone: nothing is recorded on the repository
   * (no last use, no host key pinned, no content access granted to its trackers). An SSH key
   * without a given host key trusts the key the server shows for this clone only.
   */
  private async forArchive(archiveId: string): Promise<RemoteCredential | undefined> {
    // Whatever finished meanwhile needs its ciphertext no more.
    await this.archiveStore.dropFinished();
    const stored = await this.archiveStore.findForRun(archiveId);
    if (!stored) return undefined;
    const credential = this.cipher.decrypt(stored.ciphertext, archiveCredentialBinding(archiveId));
    if (credential.kind !== 'ssh') return toHttpCredential(credential);
    const ssh: { -readonly [K in keyof SshKeyCredential]: SshKeyCredential[K] } = { privateKey: credential.privateKey };
    if (stored.sshHostKey !== null) ssh.hostKey = stored.sshHostKey;
    ssh.onHostKeyPinned = async (scanned) => {
      ssh.hostKey = scanned;
    };
    return ssh;
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

import { CredentialCipher, CredentialError } from '@archiver/credentials';
import type { RepositoryCredentialRepository } from '@archiver/database';

export interface RotationReport {
  /** Re-encrypted under the first key. */
  rotated: number;
  /** Already under the first key (and readable). */
  current: number;
  /** Changed by someone else meanwhile (a PATCH wrote a new one, made with the first key anyway). */
  raced: number;
  /** Unreadable: unknown key id or tampered; left as they are, listed by repository. */
  failed: { repositoryId: string; code: string; message: string }[];
}

/**
 * Re-encrypts every stored credential under the first configured key, so the keys after it
 * can then be dropped from CREDENTIAL_KEYS. Idempotent: a second run rotates nothing. One
 * unreadable ciphertext does not stop the others; the report names it.
 */
export async function rotateCredentials(
  cipher: CredentialCipher,
  store: Pick<RepositoryCredentialRepository, 'listAll' | 'replaceCiphertext'>,
): Promise<RotationReport> {
  const report: RotationReport = { rotated: 0, current: 0, raced: 0, failed: [] };
  for (const { repositoryId, ciphertext } of await store.listAll()) {
    let next: { ciphertext: string; changed: boolean };
    try {
      next = cipher.rotate(ciphertext, repositoryId);
    } catch (error) {
      if (!(error instanceof CredentialError)) throw error;
      report.failed.push({ repositoryId, code: error.code, message: error.message });
      continue;
    }
    if (!next.changed) report.current++;
    else if (await store.replaceCiphertext(repositoryId, ciphertext, next.ciphertext)) report.rotated++;
    else report.raced++;
  }
  return report;
}

/**
 * What a one-off archive's own credential is encrypted for (CredentialCipher's row binding): the
 * frontend encrypts and the worker decrypts with it, and a ciphertext moved to any other row,
 * a repository's included, fails to decrypt.
 */
export const archiveCredentialBinding = (archiveId: string): string => `archive:${archiveId}`;

import { CodedError } from '@archiver/errors';

/** Stable codes (stored and matched by clients: never rename one). */
export enum CredentialErrorCode {
  /** No key is configured (CREDENTIAL_KEYS), so nothing can be encrypted or decrypted. */
  KEYS_MISSING = 'CREDENTIAL_KEYS_MISSING',
  /** The ciphertext names a key id that is not (or no longer) configured. */
  KEY_UNKNOWN = 'CREDENTIAL_KEY_UNKNOWN',
  /** The ciphertext is not in the stored format at all. */
  MALFORMED = 'CREDENTIAL_MALFORMED',
  /** Authentication failed: the ciphertext, its IV, tag or key id was altered, or the key is wrong. */
  TAMPERED = 'CREDENTIAL_TAMPERED',
  /** The credential itself (kind, fields) is not valid. */
  INVALID = 'CREDENTIAL_INVALID',
}

export class CredentialError extends CodedError<CredentialErrorCode> {
  override readonly name = 'CredentialError';
  readonly domain = 'credentials';

  // A broken key or ciphertext does not heal by retrying.
  constructor(code: CredentialErrorCode, message: string, options: { detail?: string; cause?: unknown } = {}) {
    super(code, message, { ...options, transient: false });
  }
}

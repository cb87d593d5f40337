import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { CredentialError, CredentialErrorCode } from './credential.error';
import { Credential, credentialSchema } from './credential.types';

/** One AES-256 key and the id stored with every ciphertext it made. */
export interface CredentialKey {
  id: string;
  /** 32 bytes. */
  key: Buffer;
}

/** v2 binds each ciphertext to its repository; v1 (no binding) is still read, and rotation rewrites it as v2. */
const VERSION = 'v2';
const READABLE_VERSIONS = new Set(['v1', 'v2']);
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

/**
 * AES-256-GCM of credentials at rest, as one compact string `v2.<keyId>.<iv>.<tag>.<data>`
 * (base64url parts): a random 96-bit IV per ciphertext, and the version, the key id and the
 * owning repository's id bound into the authenticated data, so altering any part, or copying a
 * ciphertext onto another repository's row, is detected. The first key encrypts; every key
 * decrypts, which lets an operator add a new key first, rotate (re-encrypt) and only then drop
 * the old one.
 */
export class CredentialCipher {
  private readonly keys: ReadonlyMap<string, Buffer>;

  constructor(keys: readonly CredentialKey[]) {
    const map = new Map<string, Buffer>();
    for (const { id, key } of keys) {
      if (!KEY_ID.test(id))
        throw new CredentialError(CredentialErrorCode.INVALID, `Credential key id "${id}" must be 1-32 letters, digits, "-" or "_".`);
      if (key.length !== 32)
        throw new CredentialError(CredentialErrorCode.INVALID, `Credential key "${id}" must be 32 bytes (AES-256), got ${key.length}.`);
      if (map.has(id)) throw new CredentialError(CredentialErrorCode.INVALID, `Credential key id "${id}" is configured twice.`);
      map.set(id, key);
    }
    this.keys = map;
  }

  /** The id new ciphertexts are made with, or undefined when no key is configured. */
  get currentKeyId(): string | undefined {
    return this.keys.keys().next().value;
  }

  /** `repositoryId`: the row the ciphertext is stored in; decrypting it elsewhere fails TAMPERED. */
  encrypt(credential: Credential, repositoryId: string): string {
    const keyId = this.requireCurrentKeyId();
    const plain = Buffer.from(JSON.stringify(validate(credential)), 'utf8');
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(keyId)!, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(aad(VERSION, keyId, repositoryId));
    const data = Buffer.concat([cipher.update(plain), cipher.final()]);
    plain.fill(0);
    return [VERSION, keyId, b64(iv), b64(cipher.getAuthTag()), b64(data)].join('.');
  }

  decrypt(ciphertext: string, repositoryId: string): Credential {
    const { version, keyId, iv, tag, data } = parse(ciphertext);
    const key = this.keys.get(keyId);
    if (!key) {
      throw new CredentialError(
        CredentialErrorCode.KEY_UNKNOWN,
        `A stored credential was encrypted with key "${keyId}", which CREDENTIAL_KEYS no longer lists; add that key back (after the first) to read it.`,
      );
    }
    let plain: Buffer;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(aad(version, keyId, repositoryId));
      decipher.setAuthTag(tag);
      plain = Buffer.concat([decipher.update(data), decipher.final()]);
    } catch (cause) {
      throw new CredentialError(
        CredentialErrorCode.TAMPERED,
        `A stored credential failed its integrity check under key "${keyId}": it was altered or copied from another repository, or that key id now holds a different key.`,
        { cause },
      );
    }
    try {
      return validate(JSON.parse(plain.toString('utf8')));
    } finally {
      plain.fill(0);
    }
  }

  /** The key id a ciphertext names (without decrypting it). */
  keyIdOf(ciphertext: string): string {
    return parse(ciphertext).keyId;
  }

  /** Re-encrypts under the current key and version; returns the input unchanged when it already uses both. */
  rotate(ciphertext: string, repositoryId: string): { ciphertext: string; changed: boolean } {
    const { version, keyId } = parse(ciphertext);
    if (version === VERSION && keyId === this.requireCurrentKeyId()) {
      this.decrypt(ciphertext, repositoryId); // still proves it is readable, and where it belongs
      return { ciphertext, changed: false };
    }
    return { ciphertext: this.encrypt(this.decrypt(ciphertext, repositoryId), repositoryId), changed: true };
  }

  private requireCurrentKeyId(): string {
    const id = this.currentKeyId;
    if (id === undefined) {
      throw new CredentialError(
        CredentialErrorCode.KEYS_MISSING,
        'No credential key is configured: set CREDENTIAL_KEYS (id:base64-of-32-bytes, first one encrypts) to store credentials.',
      );
    }
    return id;
  }
}

function validate(value: unknown): Credential {
  const result = credentialSchema.safeParse(value);
  if (!result.success) {
    // Only paths and messages: the rejected values may be secrets.
    const issues = result.error.issues.map((issue) => `${issue.path.join('.') || 'credential'}: ${issue.message}`);
    throw new CredentialError(CredentialErrorCode.INVALID, `Invalid credential (${issues.join('; ')}).`);
  }
  return result.data as Credential;
}

function aad(version: string, keyId: string, repositoryId: string): Buffer {
  const base = `archiver-credential/${version}/${keyId}`;
  return Buffer.from(version === 'v1' ? base : `${base}/${repositoryId}`, 'utf8');
}

function b64(buffer: Buffer): string {
  return buffer.toString('base64url');
}

const B64URL = /^[A-Za-z0-9_-]+$/;

function parse(ciphertext: string): { version: string; keyId: string; iv: Buffer; tag: Buffer; data: Buffer } {
  const parts = typeof ciphertext === 'string' ? ciphertext.split('.') : [];
  const [version, keyId, iv, tag, data] = parts;
  const wellFormed =
    parts.length === 5 && READABLE_VERSIONS.has(version) && KEY_ID.test(keyId) && [iv, tag, data].every((part) => B64URL.test(part));
  const decoded = wellFormed
    ? { version, keyId, iv: Buffer.from(iv, 'base64url'), tag: Buffer.from(tag, 'base64url'), data: Buffer.from(data, 'base64url') }
    : undefined;
  if (!decoded || decoded.iv.length !== IV_BYTES || decoded.tag.length !== TAG_BYTES) {
    throw new CredentialError(
      CredentialErrorCode.MALFORMED,
      `A stored credential is not in the ${VERSION}.<keyId>.<iv>.<tag>.<data> format.`,
    );
  }
  return decoded;
}

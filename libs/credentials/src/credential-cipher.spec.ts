import { createCipheriv, randomBytes } from 'node:crypto';
import { CredentialCipher, CredentialKey } from './credential-cipher';
import { CredentialError, CredentialErrorCode } from './credential.error';
import { Credential } from './credential.types';

const key = (id: string): CredentialKey => ({ id, key: randomBytes(32) });
const REPO = '0b9f6c1e-3c1d-4c53-9b1e-6f1f3f8f0a01';
const OTHER_REPO = '7d1c2a54-8a3e-4f4f-a0a2-2f6b4b1a9c02';

/** A ciphertext as the first version wrote it (no repository bound in), for the upgrade path. */
function v1CiphertextOf(credential: Credential, { id, key: secret }: CredentialKey): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', secret, iv, { authTagLength: 16 });
  cipher.setAAD(Buffer.from(`archiver-credential/v1/${id}`, 'utf8'));
  const data = Buffer.concat([cipher.update(JSON.stringify(credential), 'utf8'), cipher.final()]);
  return ['v1', id, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), data.toString('base64url')].join('.');
}

const credentials: Credential[] = [
  { kind: 'token', token: 'gta_0123456789abcdef' },
  { kind: 'token', token: 'glpat-xyz', username: 'oauth2' },
  { kind: 'basic', username: 'alice', password: 'pä$$ wörd:with@odd/chars' },
  { kind: 'hmac', secret: 'whsec_0f1e2d3c4b5a69788796a5b4c3d2e1f0' },
  { kind: 'ssh', privateKey: '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n' },
  {
    kind: 'ssh',
    privateKey: '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n',
    hostKey: 'ssh-ed25519 AAAAC3Nza',
  },
];

function codeOf(fn: () => unknown): CredentialErrorCode | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof CredentialError) return error.code;
    throw error;
  }
  return undefined;
}

/** Flips one bit of one base64url part (1 iv, 2 tag, 3 data) of a ciphertext. */
function flip(ciphertext: string, part: number): string {
  const parts = ciphertext.split('.');
  const bytes = Buffer.from(parts[part], 'base64url');
  bytes[bytes.length - 1] ^= 0x01;
  parts[part] = bytes.toString('base64url');
  return parts.join('.');
}

describe(CredentialCipher.name, () => {
  it.each(credentials.map((c) => [c.kind, c] as const))(
    'round-trips a %s credential without the secret in the ciphertext',
    (_kind, credential) => {
      const sut = new CredentialCipher([key('k1')]);
      const ciphertext = sut.encrypt(credential, REPO);
      expect(sut.decrypt(ciphertext, REPO)).toEqual(credential);
      for (const secret of Object.values(credential)) expect(ciphertext).not.toContain(secret);
      expect(ciphertext).toMatch(/^v2\.k1\.[\w-]{16}\.[\w-]{22}\.[\w-]+$/);
    },
  );

  it('uses a fresh IV for every ciphertext', () => {
    const sut = new CredentialCipher([key('k1')]);
    const ivs = new Set(Array.from({ length: 50 }, () => sut.encrypt(credentials[0], REPO).split('.')[2]));
    expect(ivs.size).toBe(50);
  });

  it.each([
    ['iv', 2],
    ['tag', 3],
    ['data', 4],
  ])('detects a changed %s as tampering', (_part, index) => {
    const sut = new CredentialCipher([key('k1')]);
    const tampered = flip(sut.encrypt(credentials[2], REPO), index);
    expect(codeOf(() => sut.decrypt(tampered, REPO))).toBe(CredentialErrorCode.TAMPERED);
    expect(() => sut.decrypt(tampered, REPO)).toThrow(/altered/);
  });

  it('detects a ciphertext relabelled with another configured key id', () => {
    const sut = new CredentialCipher([key('k1'), key('k2')]);
    const relabelled = sut.encrypt(credentials[0], REPO).replace(/^v2\.k1\./, 'v2.k2.');
    expect(codeOf(() => sut.decrypt(relabelled, REPO))).toBe(CredentialErrorCode.TAMPERED);
  });

  it.each(credentials)('binds each ciphertext to its repository: another row cannot use it (%#)', (credential) => {
    const sut = new CredentialCipher([key('k1')]);
    const ciphertext = sut.encrypt(credential, REPO);
    expect(codeOf(() => sut.decrypt(ciphertext, OTHER_REPO))).toBe(CredentialErrorCode.TAMPERED);
    expect(codeOf(() => sut.rotate(ciphertext, OTHER_REPO))).toBe(CredentialErrorCode.TAMPERED);
  });

  it('still reads a v1 ciphertext (made before the binding), wherever it is, and rotation rewrites it bound as v2', () => {
    const k1 = key('k1');
    const sut = new CredentialCipher([k1]);
    const old = v1CiphertextOf(credentials[0], k1);
    expect(sut.decrypt(old, REPO)).toEqual(credentials[0]);
    const rotated = sut.rotate(old, REPO);
    expect(rotated.changed).toBe(true);
    expect(rotated.ciphertext).toMatch(/^v2\.k1\./);
    expect(sut.decrypt(rotated.ciphertext, REPO)).toEqual(credentials[0]);
    expect(codeOf(() => sut.decrypt(rotated.ciphertext, OTHER_REPO))).toBe(CredentialErrorCode.TAMPERED);
    expect(codeOf(() => sut.decrypt(old.replace(/^v1\./, 'v2.'), REPO))).toBe(CredentialErrorCode.TAMPERED);
  });

  it('detects a key id that now holds a different key', () => {
    const ciphertext = new CredentialCipher([key('k1')]).encrypt(credentials[0], REPO);
    expect(codeOf(() => new CredentialCipher([key('k1')]).decrypt(ciphertext, REPO))).toBe(CredentialErrorCode.TAMPERED);
  });

  it('names an unknown key id', () => {
    const ciphertext = new CredentialCipher([key('gone')]).encrypt(credentials[0], REPO);
    const sut = new CredentialCipher([key('k1')]);
    expect(codeOf(() => sut.decrypt(ciphertext, REPO))).toBe(CredentialErrorCode.KEY_UNKNOWN);
    expect(() => sut.decrypt(ciphertext, REPO)).toThrow(/"gone"/);
  });

  it.each([
    '',
    'garbage',
    'v3.k1.aaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaa.aa',
    'v1.k1.short.aaaaaaaaaaaaaaaaaaaaaa.aa',
    'v1.k1.a.b.c.d',
    'v1.k 1.aaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaa.aa',
  ])('refuses the malformed ciphertext %j', (ciphertext) => {
    expect(codeOf(() => new CredentialCipher([key('k1')]).decrypt(ciphertext, REPO))).toBe(CredentialErrorCode.MALFORMED);
  });

  it('refuses to encrypt without a key, saying which setting to set', () => {
    const sut = new CredentialCipher([]);
    expect(sut.currentKeyId).toBeUndefined();
    expect(codeOf(() => sut.encrypt(credentials[0], REPO))).toBe(CredentialErrorCode.KEYS_MISSING);
    expect(() => sut.encrypt(credentials[0], REPO)).toThrow(/CREDENTIAL_KEYS/);
  });

  it.each([
    [{ kind: 'token', token: '' }],
    [{ kind: 'token', token: 'a\nb' }],
    [{ kind: 'basic', username: 'u' }],
    [{ kind: 'ssh', privateKey: 'not a key' }],
    [{ kind: 'password', password: 'x' }],
    [{ kind: 'token', token: 't', extra: 'x' }],
  ])('refuses the invalid credential %j without echoing its values', (credential) => {
    const sut = new CredentialCipher([key('k1')]);
    expect(codeOf(() => sut.encrypt(credential as Credential, REPO))).toBe(CredentialErrorCode.INVALID);
    try {
      sut.encrypt(credential as Credential, REPO);
    } catch (error) {
      expect((error as Error).message).not.toMatch(/not a key|a\nb/);
    }
  });

  it.each([[[{ id: 'k1', key: randomBytes(16) }]], [[{ id: 'bad id', key: randomBytes(32) }]], [[key('k1'), key('k1')]]])(
    'refuses a bad key ring',
    (keys) => {
      expect(codeOf(() => new CredentialCipher(keys))).toBe(CredentialErrorCode.INVALID);
    },
  );

  describe('rotation', () => {
    it('re-encrypts under the first key; the old key is then no longer needed', () => {
      const [oldKey, newKey] = [key('old'), key('new')];
      const before = new CredentialCipher([oldKey]).encrypt(credentials[2], REPO);
      const sut = new CredentialCipher([newKey, oldKey]);
      const rotated = sut.rotate(before, REPO);
      expect(rotated.changed).toBe(true);
      expect(sut.keyIdOf(rotated.ciphertext)).toBe('new');
      expect(new CredentialCipher([newKey]).decrypt(rotated.ciphertext, REPO)).toEqual(credentials[2]);
    });

    it('leaves a ciphertext under the current key unchanged, but still proves it readable', () => {
      const k1 = key('k1');
      const sut = new CredentialCipher([k1]);
      const current = sut.encrypt(credentials[0], REPO);
      expect(sut.rotate(current, REPO)).toEqual({ ciphertext: current, changed: false });
      expect(codeOf(() => sut.rotate(flip(current, 4), REPO))).toBe(CredentialErrorCode.TAMPERED);
    });
  });
});

import { randomBytes } from 'node:crypto';
import { CredentialCipher, CredentialError, CredentialErrorCode } from '@archiver/credentials';
import type { RepositoryCredentialRepository, StoredCredential } from '@archiver/database';
import { toHttpCredential, VisitCredentials } from './visit-credentials';

describe(VisitCredentials.name, () => {
  const cipher = new CredentialCipher([{ id: 'k1', key: randomBytes(32) }]);
  const storeWith = (stored: StoredCredential | null) => {
    const markUsed = jest.fn(async () => undefined);
    const store = { find: jest.fn(async () => stored), markUsed } as unknown as RepositoryCredentialRepository;
    return { store, markUsed };
  };
  const stored = (ciphertext: string): StoredCredential => ({ ciphertext, kind: 'token', updatedAt: null, lastUsedAt: null });

  it('gives git nothing for a repository without a credential, and records no use', async () => {
    const { store, markUsed } = storeWith(null);
    const sut = new VisitCredentials(cipher, store);
    await expect(sut.forVisit('r')).resolves.toBeUndefined();
    expect(markUsed).not.toHaveBeenCalled();
  });

  it('decrypts the stored credential for the visit and records that it was used', async () => {
    const { store, markUsed } = storeWith(stored(cipher.encrypt({ kind: 'token', token: 't0k' })));
    const sut = new VisitCredentials(cipher, store);
    await expect(sut.forVisit('r')).resolves.toEqual({ username: 'x-access-token', password: 't0k' });
    expect(markUsed).toHaveBeenCalledWith('r');
  });

  it("fails the visit with the cipher's code when the ciphertext was altered, without recording a use", async () => {
    const ciphertext = cipher.encrypt({ kind: 'token', token: 't0k' });
    // The tag's first character carries 6 of its bits: changing it always changes the tag.
    const parts = ciphertext.split('.');
    parts[3] = `${parts[3][0] === 'A' ? 'B' : 'A'}${parts[3].slice(1)}`;
    const { store, markUsed } = storeWith(stored(parts.join('.')));
    const error = await new VisitCredentials(cipher, store).forVisit('r').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CredentialError);
    expect((error as CredentialError).code).toBe(CredentialErrorCode.TAMPERED);
    expect(markUsed).not.toHaveBeenCalled();
  });

  it.each([
    [
      { kind: 'token', token: 't' },
      { username: 'x-access-token', password: 't' },
    ],
    [
      { kind: 'token', token: 't', username: 'oauth2' },
      { username: 'oauth2', password: 't' },
    ],
    [
      { kind: 'basic', username: 'u', password: 'p' },
      { username: 'u', password: 'p' },
    ],
  ] as const)('sends %j over HTTP as %j', (credential, http) => {
    expect(toHttpCredential(credential)).toEqual(http);
  });

  it('refuses an SSH key for now, saying what to do instead', () => {
    expect(() => toHttpCredential({ kind: 'ssh', privateKey: '-----BEGIN OPENSSH PRIVATE KEY-----\n' })).toThrow(/HTTPS token/);
  });
});

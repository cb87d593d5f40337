import { randomBytes } from 'node:crypto';
import { CredentialCipher, CredentialError, CredentialErrorCode } from '@archiver/credentials';
import type { RepositoryCredentialRepository, StoredCredential } from '@archiver/database';
import { GitErrorCode } from '@archiver/git';
import { toHttpCredential, VisitCredentials } from './visit-credentials';

describe(VisitCredentials.name, () => {
  const cipher = new CredentialCipher([{ id: 'k1', key: randomBytes(32) }]);
  const storeWith = (stored: StoredCredential | null, pinned: string | null = null) => {
    let hostKey = pinned;
    const markUsed = jest.fn(async () => undefined);
    const grantContentAccess = jest.fn(async () => undefined);
    const pinSshHostKey = jest.fn(async (_id: string, key: string) => {
      if (hostKey !== null) return false;
      hostKey = key;
      return true;
    });
    const find = jest.fn(async () => stored && { ...stored, sshHostKey: hostKey });
    const store = { find, markUsed, grantContentAccess, pinSshHostKey } as unknown as RepositoryCredentialRepository;
    return { store, markUsed, grantContentAccess, pinSshHostKey, pinAs: (key: string) => (hostKey = key) };
  };
  const stored = (ciphertext: string, kind = 'token'): StoredCredential => ({
    ciphertext,
    kind,
    updatedAt: null,
    lastUsedAt: null,
    sshHostKey: null,
  });
  const KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbg==\n-----END OPENSSH PRIVATE KEY-----\n';
  const HOST_A = `ssh-ed25519 ${'A'.repeat(68)}`;
  const HOST_B = `ssh-ed25519 ${'B'.repeat(68)}`;

  it('gives git nothing for a repository without a credential, and records no use', async () => {
    const { store, markUsed } = storeWith(null);
    const sut = new VisitCredentials(cipher, store);
    await expect(sut.forVisit('r')).resolves.toBeUndefined();
    expect(markUsed).not.toHaveBeenCalled();
  });

  it('decrypts the stored credential for the visit and records that it was used', async () => {
    const ciphertext = cipher.encrypt({ kind: 'token', token: 't0k' }, 'r');
    const { store, markUsed, grantContentAccess } = storeWith(stored(ciphertext));
    const sut = new VisitCredentials(cipher, store);
    const credential = await sut.forVisit('r');
    expect(credential).toMatchObject({ username: 'x-access-token', password: 't0k' });
    expect(markUsed).toHaveBeenCalledWith('r');
    // Only git's success with it grants its setter access to the content, once.
    expect(grantContentAccess).not.toHaveBeenCalled();
    await credential!.onAccepted!();
    await credential!.onAccepted!();
    expect(grantContentAccess).toHaveBeenCalledTimes(1);
    expect(grantContentAccess).toHaveBeenCalledWith('r', ciphertext);
  });

  it("refuses another repository's ciphertext copied onto this row", async () => {
    const { store } = storeWith(stored(cipher.encrypt({ kind: 'token', token: 't0k' }, 'elsewhere')));
    const error = await new VisitCredentials(cipher, store).forVisit('r').catch((e: unknown) => e);
    expect((error as CredentialError).code).toBe(CredentialErrorCode.TAMPERED);
  });

  it('gives an SSH key with the pinned host key', async () => {
    const { store, pinSshHostKey } = storeWith(stored(cipher.encrypt({ kind: 'ssh', privateKey: KEY }, 'r'), 'ssh'), HOST_A);
    const credential = await new VisitCredentials(cipher, store).forVisit('r');
    expect(credential).toMatchObject({ privateKey: KEY, hostKey: HOST_A });
    expect(pinSshHostKey).not.toHaveBeenCalled();
  });

  it('pins the host key scanned at first use, and uses it for the rest of the visit', async () => {
    const { store, pinSshHostKey } = storeWith(stored(cipher.encrypt({ kind: 'ssh', privateKey: KEY }, 'r'), 'ssh'));
    const credential = (await new VisitCredentials(cipher, store).forVisit('r')) as {
      hostKey?: string;
      onHostKeyPinned(k: string): Promise<void>;
    };
    expect(credential.hostKey).toBeUndefined();
    await credential.onHostKeyPinned(HOST_A);
    expect(pinSshHostKey).toHaveBeenCalledWith('r', HOST_A);
    expect(credential.hostKey).toBe(HOST_A);
  });

  it('fails HOST_KEY_CHANGED when another key was pinned meanwhile', async () => {
    const { store, pinAs } = storeWith(stored(cipher.encrypt({ kind: 'ssh', privateKey: KEY }, 'r'), 'ssh'));
    const credential = (await new VisitCredentials(cipher, store).forVisit('r')) as { onHostKeyPinned(k: string): Promise<void> };
    pinAs(HOST_B);
    await expect(credential.onHostKeyPinned(HOST_A)).rejects.toMatchObject({ code: GitErrorCode.HOST_KEY_CHANGED });
  });

  it("fails the visit with the cipher's code when the ciphertext was altered, without recording a use", async () => {
    const ciphertext = cipher.encrypt({ kind: 'token', token: 't0k' }, 'r');
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
});

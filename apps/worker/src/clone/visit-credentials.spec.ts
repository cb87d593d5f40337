import { randomBytes } from 'node:crypto';
import { archiveCredentialBinding, CredentialCipher, CredentialError, CredentialErrorCode } from '@archiver/credentials';
import type {
  ArchiveCredentialRepository,
  RepositoryCredentialRepository,
  StoredArchiveCredential,
  StoredCredential,
} from '@archiver/database';
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
  const archiveStoreWith = (own: StoredArchiveCredential | null) => {
    const dropFinished = jest.fn(async () => 0);
    const findForRun = jest.fn(async () => own);
    return { archiveStore: { dropFinished, findForRun } as unknown as ArchiveCredentialRepository, dropFinished, findForRun };
  };
  const noArchiveCredentials = archiveStoreWith(null).archiveStore;
  const KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbg==\n-----END OPENSSH PRIVATE KEY-----\n';
  const HOST_A = `ssh-ed25519 ${'A'.repeat(68)}`;
  const HOST_B = `ssh-ed25519 ${'B'.repeat(68)}`;

  it('gives git nothing for a repository without a credential, and records no use', async () => {
    const { store, markUsed } = storeWith(null);
    const sut = new VisitCredentials(cipher, store, noArchiveCredentials);
    await expect(sut.forVisit('r')).resolves.toBeUndefined();
    expect(markUsed).not.toHaveBeenCalled();
  });

  it('decrypts the stored credential for the visit and records that it was used', async () => {
    const ciphertext = cipher.encrypt({ kind: 'token', token: 't0k' }, 'r');
    const { store, markUsed, grantContentAccess } = storeWith(stored(ciphertext));
    const sut = new VisitCredentials(cipher, store, noArchiveCredentials);
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
    const error = await new VisitCredentials(cipher, store, noArchiveCredentials).forVisit('r').catch((e: unknown) => e);
    expect((error as CredentialError).code).toBe(CredentialErrorCode.TAMPERED);
  });

  it('gives an SSH key with the pinned host key', async () => {
    const { store, pinSshHostKey } = storeWith(stored(cipher.encrypt({ kind: 'ssh', privateKey: KEY }, 'r'), 'ssh'), HOST_A);
    const credential = await new VisitCredentials(cipher, store, noArchiveCredentials).forVisit('r');
    expect(credential).toMatchObject({ privateKey: KEY, hostKey: HOST_A });
    expect(pinSshHostKey).not.toHaveBeenCalled();
  });

  it('pins the host key scanned at first use, and uses it for the rest of the visit', async () => {
    const { store, pinSshHostKey } = storeWith(stored(cipher.encrypt({ kind: 'ssh', privateKey: KEY }, 'r'), 'ssh'));
    const credential = (await new VisitCredentials(cipher, store, noArchiveCredentials).forVisit('r')) as {
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
    const credential = (await new VisitCredentials(cipher, store, noArchiveCredentials).forVisit('r')) as {
      onHostKeyPinned(k: string): Promise<void>;
    };
    pinAs(HOST_B);
    await expect(credential.onHostKeyPinned(HOST_A)).rejects.toMatchObject({ code: GitErrorCode.HOST_KEY_CHANGED });
  });

  it("fails the visit with the cipher's code when the ciphertext was altered, without recording a use", async () => {
    const ciphertext = cipher.encrypt({ kind: 'token', token: 't0k' }, 'r');
    // The tag's first character carries 6 of its bits: changing it always changes the tag.
    const parts = ciphertext.split('.');
    parts[3] = `${parts[3][0] === 'A' ? 'B' : 'A'}${parts[3].slice(1)}`;
    const { store, markUsed } = storeWith(stored(parts.join('.')));
    const error = await new VisitCredentials(cipher, store, noArchiveCredentials).forVisit('r').catch((e: unknown) => e);
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

  describe('a one-off archive with its own credential', () => {
    const own = (ciphertext: string, kind = 'token', sshHostKey: string | null = null): StoredArchiveCredential => ({
      ciphertext,
      kind,
      sshHostKey,
    });

    it.each([
      [
        { kind: 'token' as const, token: 'own-t0k' },
        { username: 'x-access-token', password: 'own-t0k' },
      ],
      [
        { kind: 'basic' as const, username: 'alice', password: 'pw' },
        { username: 'alice', password: 'pw' },
      ],
    ])('uses the archive’s %o instead of the repository’s, and records nothing on the repository', async (credential, expected) => {
      const repositoryCiphertext = cipher.encrypt({ kind: 'token', token: 'repo-t0k' }, 'r');
      const { store, markUsed, grantContentAccess } = storeWith(stored(repositoryCiphertext));
      const { archiveStore, dropFinished, findForRun } = archiveStoreWith(own(cipher.encrypt(credential, archiveCredentialBinding('a'))));
      const sut = new VisitCredentials(cipher, store, archiveStore);
      const given = await sut.forVisit('r', 'a');
      expect(given).toEqual(expected);
      expect(findForRun).toHaveBeenCalledWith('a');
      expect(dropFinished).toHaveBeenCalled();
      expect(markUsed).not.toHaveBeenCalled();
      expect(grantContentAccess).not.toHaveBeenCalled();
    });

    it('falls back to the repository’s credential when the archive has none (or has finished)', async () => {
      const { store, markUsed } = storeWith(stored(cipher.encrypt({ kind: 'token', token: 'repo-t0k' }, 'r')));
      const sut = new VisitCredentials(cipher, store, archiveStoreWith(null).archiveStore);
      expect(await sut.forVisit('r', 'a')).toMatchObject({ password: 'repo-t0k' });
      expect(markUsed).toHaveBeenCalledWith('r');
    });

    it('gives an SSH key with its given host key, or pins the scanned one for this clone only', async () => {
      const ciphertext = cipher.encrypt({ kind: 'ssh', privateKey: KEY }, archiveCredentialBinding('a'));
      const { store, pinSshHostKey } = storeWith(null);
      const given = await new VisitCredentials(cipher, store, archiveStoreWith(own(ciphertext, 'ssh', HOST_A)).archiveStore).forVisit(
        'r',
        'a',
      );
      expect(given).toMatchObject({ privateKey: KEY, hostKey: HOST_A });
      const scanned = (await new VisitCredentials(cipher, store, archiveStoreWith(own(ciphertext, 'ssh')).archiveStore).forVisit(
        'r',
        'a',
      )) as { hostKey?: string; onHostKeyPinned(k: string): Promise<void> };
      expect(scanned.hostKey).toBeUndefined();
      await scanned.onHostKeyPinned(HOST_B);
      expect(scanned.hostKey).toBe(HOST_B);
      expect(pinSshHostKey).not.toHaveBeenCalled();
    });

    it.each([['r'], [archiveCredentialBinding('other')]])('refuses a ciphertext made for %s', async (binding) => {
      const ciphertext = cipher.encrypt({ kind: 'token', token: 't0k' }, binding);
      const sut = new VisitCredentials(cipher, storeWith(null).store, archiveStoreWith(own(ciphertext)).archiveStore);
      const error = await sut.forVisit('r', 'a').catch((e: unknown) => e);
      expect((error as CredentialError).code).toBe(CredentialErrorCode.TAMPERED);
    });
  });
});

import { randomBytes } from 'node:crypto';
import { CredentialCipher, CredentialErrorCode } from '@archiver/credentials';
import { rotateCredentials } from './credential-rotation';

const key = (id: string) => ({ id, key: randomBytes(32) });

/** The credential columns of a few repositories, in memory, with the store's compare-and-set. */
function memoryStore(rows: Map<string, string>) {
  return {
    listAll: async () => [...rows].map(([repositoryId, ciphertext]) => ({ repositoryId, ciphertext })),
    replaceCiphertext: async (id: string, from: string, to: string) => {
      if (rows.get(id) !== from) return false;
      rows.set(id, to);
      return true;
    },
  };
}

describe(rotateCredentials.name, () => {
  const [oldKey, newKey, lostKey] = [key('old'), key('new'), key('lost')];
  const token = { kind: 'token' as const, token: 'secret-token' };

  it('re-encrypts old ciphertexts under the first key, leaves current ones, reports unreadable ones, and is idempotent', async () => {
    const before = new CredentialCipher([oldKey]);
    const rows = new Map([
      ['a', before.encrypt(token, 'a')],
      ['b', new CredentialCipher([newKey]).encrypt(token, 'b')],
      ['c', new CredentialCipher([lostKey]).encrypt(token, 'c')],
    ]);
    const sut = new CredentialCipher([newKey, oldKey]);
    const report = await rotateCredentials(sut, memoryStore(rows));
    expect(report).toMatchObject({ rotated: 1, current: 1, raced: 0 });
    expect(report.failed).toEqual([
      { repositoryId: 'c', code: CredentialErrorCode.KEY_UNKNOWN, message: expect.stringContaining('"lost"') },
    ]);
    // Without the old key, everything rotated is still readable.
    const onlyNew = new CredentialCipher([newKey]);
    expect(onlyNew.decrypt(rows.get('a')!, 'a')).toEqual(token);
    expect(await rotateCredentials(sut, memoryStore(new Map([...rows].filter(([id]) => id !== 'c'))))).toMatchObject({
      rotated: 0,
      current: 2,
    });
  });

  it('does not overwrite a credential changed while it ran', async () => {
    const rows = new Map([['a', new CredentialCipher([oldKey]).encrypt(token, 'a')]]);
    const store = memoryStore(rows);
    const racing = { ...store, replaceCiphertext: async () => false };
    expect(await rotateCredentials(new CredentialCipher([newKey, oldKey]), racing)).toMatchObject({ rotated: 0, raced: 1 });
  });
});

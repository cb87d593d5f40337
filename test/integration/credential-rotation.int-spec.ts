import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadConfig } from '@archiver/config';
import { CredentialCipher, type CredentialKey } from '@archiver/credentials';
import { PrismaService, RepositoryCredentialRepository } from '@archiver/database';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');
const ROTATE = path.join(ROOT, 'dist/apps/worker/apps/worker/src/credentials/rotate-credentials.main.js');

const keyring = (...keys: CredentialKey[]) => keys.map((k) => `${k.id}:${k.key.toString('base64')}`).join(',');

// The documented rotation (README, "Credentials"): the built command against the stack's real
// database re-encrypts every stored credential under the first key, after which the old key
// is no longer needed; a credential whose key is gone is reported and left alone.
describe('npm run credentials:rotate', () => {
  const config = loadConfig();
  const prisma = new PrismaService(config);
  const store = new RepositoryCredentialRepository(prisma);
  const marker = `https://rotation.invalid/${randomUUID()}`;
  const [oldKey, newKey, lostKey] = ['old', 'new', 'lost'].map((id) => ({
    id: `${id}${randomBytes(3).toString('hex')}`,
    key: randomBytes(32),
  }));
  const credential = { kind: 'token' as const, token: `tok-${randomUUID()}` };

  const repository = async (name: string, key: CredentialKey) => {
    const row = await prisma.repository.create({ data: { url: `${marker}/${name}`, normalizedUrl: `${marker}/${name}` } });
    await store.set(row.id, { ciphertext: new CredentialCipher([key]).encrypt(credential, row.id), kind: 'token', setBy: 'rotation-test' });
    return row.id;
  };
  const ciphertextOf = async (id: string) => (await store.find(id))!.ciphertext;
  const rotate = (keys: string) =>
    run(process.execPath, [ROTATE], { env: { ...process.env, CREDENTIAL_KEYS: keys }, timeout: 60_000 }).then(
      (done) => ({ code: 0, report: JSON.parse(done.stdout) as Record<string, unknown> }),
      (failed: { code: number; stdout: string }) => ({ code: failed.code, report: JSON.parse(failed.stdout) as Record<string, unknown> }),
    );

  afterAll(async () => {
    await prisma.repository.deleteMany({ where: { normalizedUrl: { startsWith: marker } } });
    await prisma.$disconnect();
  });

  it('re-encrypts under the first key, so the old one can be dropped; reports what it cannot read', async () => {
    const [a, b, lost] = [await repository('a', oldKey), await repository('b', oldKey), await repository('lost', lostKey)];
    const lostBefore = await ciphertextOf(lost);

    const first = await rotate(keyring(newKey, oldKey));
    expect(first.code).toBe(1);
    expect(first.report).toMatchObject({
      keyId: newKey.id,
      failed: expect.arrayContaining([expect.objectContaining({ repositoryId: lost, code: 'CREDENTIAL_KEY_UNKNOWN' })]),
    });
    expect(first.report.rotated).toBeGreaterThanOrEqual(2);

    const onlyNew = new CredentialCipher([newKey]);
    for (const id of [a, b]) expect(onlyNew.decrypt(await ciphertextOf(id), id)).toEqual(credential);
    expect(await ciphertextOf(lost)).toBe(lostBefore);
    expect(JSON.stringify(first.report)).not.toContain(credential.token);

    // Idempotent: nothing of ours is rotated twice. (Other tests' rows, made with the stack's
    // own key, are unreadable under this keyring and only reported.)
    const beforeAgain = [await ciphertextOf(a), await ciphertextOf(b)];
    const again = await rotate(keyring(newKey));
    expect(again.report.rotated).toBe(0);
    const failedIds = (again.report.failed as { repositoryId: string }[]).map((f) => f.repositoryId);
    expect(failedIds).not.toEqual(expect.arrayContaining([a]));
    expect(failedIds).not.toEqual(expect.arrayContaining([b]));
    expect([await ciphertextOf(a), await ciphertextOf(b)]).toEqual(beforeAgain);
  });
});

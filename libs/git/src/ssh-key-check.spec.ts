import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { GitErrorCode } from './git.error';
import { checkSshPrivateKey } from './ssh-key-check';

const run = promisify(execFile);

describe(checkSshPrivateKey.name, () => {
  let dir: string;
  let checks: string;
  let made = 0;
  const keyOf = async (type: string, passphrase = '', format: string[] = []) => {
    const file = path.join(dir, `key-${made++}`);
    await run('ssh-keygen', ['-q', '-t', type, '-N', passphrase, ...format, '-f', file], { timeout: 30_000 });
    return {
      privateKey: await readFile(file, 'utf8'),
      publicKey: (await readFile(`${file}.pub`, 'utf8')).split(' ').slice(0, 2).join(' '),
    };
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'key-check-spec-'));
    checks = await mkdtemp(path.join(tmpdir(), 'key-check-scratch-'));
  });
  afterAll(async () => Promise.all([rm(dir, { recursive: true, force: true }), rm(checks, { recursive: true, force: true })]));

  it.each([
    ['ed25519', []],
    ['ecdsa', []],
    ['rsa', ['-m', 'PEM']],
  ])('accepts a %s key (%j) and returns its public key', async (type, format) => {
    const { privateKey, publicKey } = await keyOf(type, '', format);
    await expect(checkSshPrivateKey(privateKey, { tempDir: checks })).resolves.toContain(publicKey);
    await expect(checkSshPrivateKey(privateKey.replace(/\n/g, '\r\n').trimEnd(), { tempDir: checks })).resolves.toContain(publicKey);
  });

  it('refuses a passphrase-protected key, saying so', async () => {
    const { privateKey } = await keyOf('ed25519', 'a passphrase');
    await expect(checkSshPrivateKey(privateKey, { tempDir: checks })).rejects.toMatchObject({
      code: GitErrorCode.INVALID_ARGUMENT,
      message: expect.stringMatching(/passphrase/),
    });
  });

  it.each([
    ['garbage', '-----BEGIN OPENSSH PRIVATE KEY-----\nnot a key\n-----END OPENSSH PRIVATE KEY-----\n'],
    ['a public key', 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEROtS37RLSzBiHi4g0Q3k8k8MCK3jC4veT/FxtTsOz7'],
    ['an empty string', ''],
  ])('refuses %s', async (_what, privateKey) => {
    await expect(checkSshPrivateKey(privateKey, { tempDir: checks })).rejects.toMatchObject({ code: GitErrorCode.INVALID_ARGUMENT });
  });

  it('leaves no key file behind, whatever the outcome', async () => {
    const { privateKey } = await keyOf('ed25519');
    await checkSshPrivateKey(privateKey, { tempDir: checks });
    await checkSshPrivateKey('junk', { tempDir: checks }).catch(() => undefined);
    expect(await readdir(checks)).toEqual([]);
  });
});

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { HttpStatus } from '@nestjs/common';
import type { AuthUser } from '@archiver/auth';
import { CredentialCipher } from '@archiver/credentials';
import type { CredentialChange, RepositoryCredentialRepository } from '@archiver/database';
import { ApiError } from '../api/api.error';
import type { CredentialInput } from './repository.dto';
import { RepositoryCredentialsService } from './repository-credentials.service';

const run = promisify(execFile);
const REPO = '3f1d1a4e-2b9c-4f8e-9a1d-1c2b3a4d5e6f';
const SSH_URL = 'ssh://git@forge.example:2222/team/repo.git';
const HTTP_URL = 'https://forge.example/team/repo.git';
const HOST_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEROtS37RLSzBiHi4g0Q3k8k8MCK3jC4veT/FxtTsOz7';
const user = { subject: 'sub-1', username: 'alice', isAdmin: false } as AuthUser;

describe(RepositoryCredentialsService.name, () => {
  let dir: string;
  let privateKey: string;
  let protectedKey: string;
  let saved: (CredentialChange | null)[];
  const cipher = new CredentialCipher([{ id: 'k1', key: Buffer.alloc(32, 7) }]);
  const sut = () => {
    saved = [];
    const store = { set: jest.fn(async (_id: string, change: CredentialChange | null) => void saved.push(change)) };
    return new RepositoryCredentialsService(cipher, store as unknown as RepositoryCredentialRepository);
  };
  const refusal = async (work: Promise<unknown>) => {
    const error = await work.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).getStatus()).toBe(HttpStatus.BAD_REQUEST);
    return (error as ApiError).getResponse() as { error: { code: string; message: string } };
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'credentials-service-spec-'));
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'plain')], { timeout: 30_000 });
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'pass phrase', '-f', path.join(dir, 'locked')], { timeout: 30_000 });
    privateKey = await readFile(path.join(dir, 'plain'), 'utf8');
    protectedKey = await readFile(path.join(dir, 'locked'), 'utf8');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('stores an SSH key encrypted for this repository, its host key normalised beside it, and who set it', async () => {
    const service = sut();
    await service.set(REPO, SSH_URL, { kind: 'ssh', privateKey, hostKey: `[forge.example]:2222 ${HOST_KEY}\n` }, user);
    const [change] = saved;
    expect(change).toMatchObject({ kind: 'ssh', setBy: 'sub-1', sshHostKey: HOST_KEY });
    expect(change!.ciphertext).not.toContain(privateKey.split('\n')[1]);
    expect(cipher.decrypt(change!.ciphertext, REPO)).toEqual({ kind: 'ssh', privateKey });
  });

  it('keeps the pinned host key when a key is set without one, and forgets it for other kinds', async () => {
    const service = sut();
    await service.set(REPO, SSH_URL, { kind: 'ssh', privateKey }, user);
    await service.set(REPO, HTTP_URL, { kind: 'token', token: 't' }, user);
    expect(saved[0]).not.toHaveProperty('sshHostKey');
    expect(saved[1]).toMatchObject({ sshHostKey: null });
  });

  it.each<[string, string, CredentialInput, RegExp]>([
    ['a passphrase-protected key', SSH_URL, { kind: 'ssh', privateKey: 'PROTECTED' }, /passphrase/],
    [
      'a damaged key',
      SSH_URL,
      { kind: 'ssh', privateKey: '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----' },
      /cannot read it/,
    ],
    ['a host key that is not one', SSH_URL, { kind: 'ssh', privateKey: 'PLAIN', hostKey: 'ssh-ed25519 nope' }, /host key/],
    ['a token for an SSH URL', SSH_URL, { kind: 'token', token: 't' }, /must be an SSH key/],
    [
      'a password for an scp-like URL',
      'git@forge.example:team/repo.git',
      { kind: 'basic', username: 'u', password: 'p' },
      /must be an SSH key/,
    ],
    ['an SSH key for an https URL', HTTP_URL, { kind: 'ssh', privateKey: 'PLAIN' }, /cannot log in there/],
  ])('refuses %s with 400 CREDENTIAL_INVALID and stores nothing', async (_what, url, input, message) => {
    const given =
      input.kind === 'ssh'
        ? {
            ...input,
            privateKey: input.privateKey === 'PROTECTED' ? protectedKey : input.privateKey === 'PLAIN' ? privateKey : input.privateKey,
          }
        : input;
    const service = sut();
    const { error } = await refusal(service.set(REPO, url, given, user));
    expect(error).toMatchObject({ code: 'CREDENTIAL_INVALID', message: expect.stringMatching(message) });
    expect(JSON.stringify(error)).not.toContain(privateKey.split('\n')[1]);
    expect(saved).toEqual([]);
  });
});

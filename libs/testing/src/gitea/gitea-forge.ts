import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadStackSettings } from '@archiver/config';
import { fixtureGitEnv } from '../git/fixture-git.command';
import { authHeaders, GiteaAuth, GiteaClient } from './gitea.client';

const ROOT = path.resolve(__dirname, '../../../..');
const run = promisify(execFile);

export interface GiteaForge {
  client: GiteaClient;
  url: string;
  sshPort: number;
}

let starting: Promise<GiteaForge> | undefined;

/**
 * The stack's Gitea, started on first use by the project's own script (idempotent: a running
 * one is reused, and scripts/test.sh stops it with the services it started). Lazily, so test
 * runs that do not need a forge do not pay for one.
 */
export function startGitea(): Promise<GiteaForge> {
  starting ??= (async () => {
    const { gitea } = loadStackSettings();
    if (!gitea) throw new Error('GITEA_URL and GITEA_ADMIN_PASSWORD are not set: source scripts/env.sh (again) in this shell');
    await run('bash', [path.join(ROOT, 'scripts/stack.sh'), 'start-service', 'gitea'], { cwd: ROOT, env: process.env, timeout: 120_000 });
    return { client: new GiteaClient(gitea.url, gitea.admin), url: gitea.url, sshPort: gitea.sshPort };
  })();
  starting.catch(() => (starting = undefined));
  return starting;
}

/**
 * git with credentials for the forge, in the test process only: the header goes through
 * GIT_CONFIG_* variables, so it never shows in a process list the tests sample.
 */
export async function gitWithAuth(args: readonly string[], cwd: string, auth?: GiteaAuth): Promise<{ stdout: string; stderr: string }> {
  const env: Record<string, string> = { ...fixtureGitEnv(cwd) };
  if (auth) {
    const [name, value] = Object.entries(authHeaders(auth))[0];
    Object.assign(env, { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'http.extraHeader', GIT_CONFIG_VALUE_0: `${name}: ${value}` });
  }
  const { stdout, stderr } = await run('git', [...args], { cwd, env, timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
  return { stdout, stderr };
}

/** Pushes every branch and tag of a local (bare or not) fixture repository to a forge repository. */
export async function pushFixture(localRepo: string, cloneUrl: string, auth: GiteaAuth): Promise<void> {
  await gitWithAuth(['push', '--quiet', cloneUrl, '+refs/heads/*:refs/heads/*', '+refs/tags/*:refs/tags/*'], localRepo, auth);
}

/** A fresh ed25519 key pair (OpenSSH formats) made by ssh-keygen in `dir`, e.g. for a deploy key. */
export async function generateSshKeyPair(dir: string, name = 'id_ed25519'): Promise<{ privateKey: string; publicKey: string }> {
  const file = path.join(dir, name);
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'archiver-test', '-f', file], { timeout: 30_000 });
  return { privateKey: await readFile(file, 'utf8'), publicKey: (await readFile(`${file}.pub`, 'utf8')).trim() };
}

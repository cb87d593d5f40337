import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { GitError, GitErrorCode } from './git.error';
import { DEFAULT_SEARCH_PATH } from './git-process';

const run = promisify(execFile);

/**
 * Proves a private key is usable by ssh as it stands (parsable, no passphrase) by deriving its
 * public key with `ssh-keygen -y`. The key goes through a mode-600 file in a private temp dir,
 * removed in every outcome, never on a command line. Returns the public key line; throws
 * INVALID_ARGUMENT with a reason a person can act on.
 */
export async function checkSshPrivateKey(privateKey: string, options: { tempDir?: string; searchPath?: string } = {}): Promise<string> {
  const dir = await mkdtemp(path.join(options.tempDir ?? tmpdir(), 'archiver-key-check-'));
  try {
    const file = path.join(dir, 'key');
    const key = privateKey.replace(/\r\n?/g, '\n');
    await writeFile(file, key.endsWith('\n') ? key : `${key}\n`, { mode: 0o600, flag: 'wx' });
    // -P '' answers a passphrase prompt with nothing, so a protected key fails instead of waiting.
    const { stdout } = await run('ssh-keygen', ['-y', '-P', '', '-f', file], {
      timeout: 10_000,
      maxBuffer: 64 * 1024,
      env: { PATH: options.searchPath ?? DEFAULT_SEARCH_PATH, LC_ALL: 'C' },
    });
    return stdout.trim();
  } catch (error) {
    if (error instanceof GitError) throw error;
    const stderr = String((error as { stderr?: unknown }).stderr ?? '');
    const why = /passphrase/i.test(stderr)
      ? 'it is protected by a passphrase; the archiver needs a key without one (e.g. a deploy key made with ssh-keygen -N "")'
      : 'ssh cannot read it as a private key (paste the whole OpenSSH or PEM private key, BEGIN and END lines included)';
    throw new GitError(GitErrorCode.INVALID_ARGUMENT, `The SSH private key is not usable: ${why}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

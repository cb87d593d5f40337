import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { GitError, GitErrorCode } from './git.error';
import { DEFAULT_SEARCH_PATH, type GitRuntimeOptions } from './git-process';
import type { VettedRepositoryUrl } from './url-policy';

const run = promisify(execFile);

/** A deploy key for one operation, and the server's host key it must present. */
export interface SshKeyCredential {
  /** OpenSSH or PEM private key without a passphrase. */
  readonly privateKey: string;
  /** Pinned host keys (`<type> <base64>` lines); absent: scanned now and handed to onHostKeyPinned. */
  readonly hostKey?: string;
  /** Stores the keys scanned at first use; the operation goes on only once they are stored. */
  readonly onHostKeyPinned?: (hostKey: string) => Promise<void>;
  /** Called once an operation with it succeeded: the server accepted the key. */
  readonly onAccepted?: () => Promise<void>;
}

/** The name ssh looks the pinned key up under, whatever address it connects to. */
export const PINNED_HOST_ALIAS = 'archiver-pinned-host';

const KEY_TYPE = /^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com)$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
// Only these characters reach ssh's own option parser (which expands %, ~ and splits on spaces).
const SAFE_PATH = /^[A-Za-z0-9._/-]+$/;

/**
 * Host keys as `ssh-keyscan`, `known_hosts` or a `.pub` file write them (`[host] <type> <base64>
 * [comment]`, one per line; blank lines and `#` comments skipped), normalised to `<type> <base64>`
 * lines. Throws INVALID_ARGUMENT when there is none or a line is not a key.
 */
export function parseHostKeys(text: string): string {
  const keys: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const fields = line.split(/\s+/);
    const at = fields.findIndex((field) => KEY_TYPE.test(field));
    const data = at >= 0 ? fields[at + 1] : undefined;
    if (at < 0 || at > 1 || data === undefined || !BASE64.test(data) || data.length < 64) {
      throw new GitError(
        GitErrorCode.INVALID_ARGUMENT,
        'A host key must be an SSH public key line like "ssh-ed25519 AAAA…" (as ssh-keyscan or known_hosts show it)',
      );
    }
    const key = `${fields[at]} ${data}`;
    if (!keys.includes(key)) keys.push(key);
  }
  if (keys.length === 0) throw new GitError(GitErrorCode.INVALID_ARGUMENT, 'The host key is empty: give at least one SSH public key line');
  return keys.join('\n');
}

/** Where ssh finds the operation's key and pinned host keys, and the vetted address it connects to. */
export interface SshCommandOptions {
  readonly identityFile: string;
  readonly knownHostsFile: string;
  readonly address: string;
  readonly connectTimeoutSeconds: number;
}

/**
 * `ssh` as git must run it for one operation: only our key file, only the pinned host key (no
 * known_hosts or config of the machine, no agent), no prompts, no forwarding or proxying, and
 * the vetted address as HostName, so the host name in the URL is never resolved again. git
 * appends `-p <port>`, `user@host` and the remote command; everything of ours is fixed text.
 */
export function sshCommand(options: SshCommandOptions): string {
  return ['ssh', '-F', '/dev/null', ...sshSettings(options).flatMap((setting) => ['-o', `'${setting}'`])].join(' ');
}

/**
 * The very invocation of sshCommand as an argument vector (`ssh` first), for a remote command
 * this process runs itself (git-lfs-authenticate): the same settings, not a second list.
 */
export function sshArgv(options: SshCommandOptions): string[] {
  return ['ssh', '-F', '/dev/null', ...sshSettings(options).flatMap((setting) => ['-o', setting])];
}

function sshSettings(options: SshCommandOptions): string[] {
  for (const file of [options.identityFile, options.knownHostsFile]) {
    if (!SAFE_PATH.test(file))
      throw new GitError(GitErrorCode.INVALID_ARGUMENT, `Temporary path ${JSON.stringify(file)} is not usable by ssh`);
  }
  if (!/^[0-9a-fA-F.:]+$/.test(options.address)) {
    throw new GitError(GitErrorCode.INVALID_ARGUMENT, `SSH address ${JSON.stringify(options.address)} is not an IP address`);
  }
  return [
    'BatchMode=yes',
    'IdentitiesOnly=yes',
    `IdentityFile=${options.identityFile}`,
    'IdentityAgent=none',
    'StrictHostKeyChecking=yes',
    `UserKnownHostsFile=${options.knownHostsFile}`,
    'GlobalKnownHostsFile=/dev/null',
    `HostKeyAlias=${PINNED_HOST_ALIAS}`,
    `HostName=${options.address}`,
    'CheckHostIP=no',
    'UpdateHostKeys=no',
    'ProxyCommand=none',
    'ProxyJump=none',
    'ControlMaster=no',
    'ControlPath=none',
    'ForwardAgent=no',
    'ForwardX11=no',
    'ClearAllForwardings=yes',
    'PermitLocalCommand=no',
    'PasswordAuthentication=no',
    'KbdInteractiveAuthentication=no',
    'PreferredAuthentications=publickey',
    `ConnectTimeout=${Math.max(1, Math.ceil(options.connectTimeoutSeconds))}`,
    'ServerAliveInterval=15',
    'ServerAliveCountMax=4',
    'LogLevel=ERROR',
  ];
}

/** What an SSH operation runs with: git's `-c` settings, and the same ssh as an argument vector. */
export interface SshSetup {
  readonly gitConfig: string[];
  readonly argv: readonly string[];
}

/**
 * Writes the key (mode 600) and the pinned host keys into the operation's throw-away home, which
 * the caller removes in every outcome, and returns git's `-c` settings for this one operation
 * (and the same ssh invocation as an argument vector).
 */
export async function sshConfig(
  home: string,
  target: VettedRepositoryUrl,
  credential: SshKeyCredential & { hostKey: string },
  connectTimeoutSeconds: number,
): Promise<SshSetup> {
  const identityFile = path.join(home, 'ssh-identity');
  const knownHostsFile = path.join(home, 'ssh-known-hosts');
  const key = credential.privateKey.replace(/\r\n?/g, '\n');
  await writeFile(identityFile, key.endsWith('\n') ? key : `${key}\n`, { mode: 0o600, flag: 'wx' });
  const knownHosts = parseHostKeys(credential.hostKey)
    .split('\n')
    .map((line) => `${PINNED_HOST_ALIAS} ${line}\n`)
    .join('');
  await writeFile(knownHostsFile, knownHosts, { mode: 0o600, flag: 'wx' });
  const address = target.addresses[0]?.address ?? target.host;
  const options = { identityFile, knownHostsFile, address, connectTimeoutSeconds };
  return { gitConfig: [`core.sshCommand=${sshCommand(options)}`, 'ssh.variant=ssh'], argv: sshArgv(options) };
}

/**
 * Asks the server at the vetted address for its host keys (trust on first use), bounded by the
 * operation's signal and a timeout. Throws NETWORK when nothing answers like an SSH server.
 */
export async function scanHostKeys(
  target: VettedRepositoryUrl,
  options: { signal: AbortSignal; timeoutMs: number; runtime?: GitRuntimeOptions },
): Promise<string> {
  const address = target.addresses[0]?.address ?? target.host;
  const seconds = Math.max(1, Math.min(30, Math.floor(options.timeoutMs / 1000)));
  let stdout = '';
  try {
    ({ stdout } = await run('ssh-keyscan', ['-T', String(seconds), '-p', String(target.port), '--', address], {
      signal: options.signal,
      timeout: seconds * 1000 + 2000,
      maxBuffer: 256 * 1024,
      env: { PATH: options.runtime?.searchPath ?? DEFAULT_SEARCH_PATH, LC_ALL: 'C' },
    }));
  } catch (error) {
    if (options.signal.aborted) throw options.signal.reason;
    stdout = (error as { stdout?: string }).stdout ?? '';
  }
  try {
    return parseHostKeys(stdout);
  } catch {
    throw new GitError(
      GitErrorCode.NETWORK,
      `No SSH server answered at ${target.host} port ${target.port} with a host key (asked to pin it on first use); check the URL and port`,
    );
  }
}

import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GitError, GitErrorCode } from './git.error';
import { parseHostKeys, PINNED_HOST_ALIAS, sshArgv, sshCommand, sshConfig } from './ssh-transport';
import type { VettedRepositoryUrl } from './url-policy';

const ED = `AAAAC3NzaC1lZDI1NTE5AAAAIEROtS37RLSzBiHi4g0Q3k8k8MCK3jC4veT/FxtTsOz7`;
const RSA = `AAAAB3NzaC1yc2EAAAADAQABAAABgQC${'x'.repeat(80)}`;

function codeOf(work: () => unknown): GitErrorCode | undefined {
  try {
    work();
  } catch (error) {
    if (error instanceof GitError) return error.code;
    throw error;
  }
  return undefined;
}

describe(parseHostKeys.name, () => {
  it.each([
    ['a .pub line with a comment', `ssh-ed25519 ${ED} root@host`, `ssh-ed25519 ${ED}`],
    [
      'ssh-keyscan output with comments',
      `# 127.0.0.1:2222 SSH-2.0-Go\n[127.0.0.1]:2222 ssh-rsa ${RSA}\n127.0.0.1 ssh-ed25519 ${ED}\n`,
      `ssh-rsa ${RSA}\nssh-ed25519 ${ED}`,
    ],
    ['CRLF and blank lines, duplicates', `\r\nssh-ed25519 ${ED}\r\n\r\nssh-ed25519 ${ED} again\r\n`, `ssh-ed25519 ${ED}`],
    ['ecdsa', `ecdsa-sha2-nistp256 ${RSA}`, `ecdsa-sha2-nistp256 ${RSA}`],
  ])('normalises %s', (_what, input, expected) => {
    expect(parseHostKeys(input)).toBe(expected);
  });

  it.each([
    ['empty', ''],
    ['only comments', '# nothing\n'],
    ['no key type', `AAAA ${ED}`],
    ['an unknown type', `ssh-foo ${ED}`],
    ['a short blob', 'ssh-ed25519 AAAA'],
    ['not base64', `ssh-ed25519 ${ED.slice(0, 60)}$(id)`],
    ['an options-marked known_hosts line', `@cert-authority * ssh-ed25519 ${ED}`],
    ['one bad line among good ones', `ssh-ed25519 ${ED}\nnonsense`],
  ])('refuses %s', (_what, input) => {
    expect(codeOf(() => parseHostKeys(input))).toBe(GitErrorCode.INVALID_ARGUMENT);
  });
});

describe(sshCommand.name, () => {
  const base = {
    identityFile: '/tmp/w/archiver-git-home-1/ssh-identity',
    knownHostsFile: '/tmp/w/archiver-git-home-1/ssh-known-hosts',
    address: '127.0.0.1',
    connectTimeoutSeconds: 30,
  };

  it('pins the key, the host key, the vetted address, and turns off everything a server or config could use', () => {
    const sut = sshCommand(base);
    for (const option of [
      'BatchMode=yes',
      'IdentitiesOnly=yes',
      `IdentityFile=${base.identityFile}`,
      'IdentityAgent=none',
      'StrictHostKeyChecking=yes',
      `UserKnownHostsFile=${base.knownHostsFile}`,
      'GlobalKnownHostsFile=/dev/null',
      `HostKeyAlias=${PINNED_HOST_ALIAS}`,
      'HostName=127.0.0.1',
      'UpdateHostKeys=no',
      'ProxyCommand=none',
      'ProxyJump=none',
      'ForwardAgent=no',
      'PermitLocalCommand=no',
      'PasswordAuthentication=no',
      'ConnectTimeout=30',
    ]) {
      expect(sut).toContain(`-o '${option}'`);
    }
    expect(sut.startsWith('ssh -F /dev/null ')).toBe(true);
  });

  it.each(['::1', '2001:db8::7'])('connects to an IPv6 address %s as given', (address) => {
    expect(sshCommand({ ...base, address })).toContain(`HostName=${address}'`);
  });

  it.each([
    ['a host name instead of an address', { address: 'evil.example' }],
    ['an option as address', { address: '-oProxyCommand=x' }],
    ['a key path with a space', { identityFile: '/tmp/a b/key' }],
    ['a key path with %', { identityFile: '/tmp/%d/key' }],
    ['a known-hosts path with a quote', { knownHostsFile: "/tmp/it's" }],
  ])('refuses %s', (_what, change) => {
    expect(codeOf(() => sshCommand({ ...base, ...change }))).toBe(GitErrorCode.INVALID_ARGUMENT);
  });
});

describe(sshArgv.name, () => {
  const base = { identityFile: '/tmp/h/ssh-identity', knownHostsFile: '/tmp/h/ssh-known-hosts', address: '::1', connectTimeoutSeconds: 5 };

  it('holds exactly the settings of sshCommand, unquoted', () => {
    const sut = sshArgv(base);
    expect(sut.slice(0, 3)).toEqual(['ssh', '-F', '/dev/null']);
    expect(sshCommand(base)).toBe(sut.map((arg, i) => (sut[i - 1] === '-o' ? `'${arg}'` : arg)).join(' '));
  });

  it.each([
    ['a host name instead of an address', { address: 'evil.example' }],
    ['a key path with a space', { identityFile: '/tmp/a b/key' }],
  ])('refuses %s as sshCommand does', (_what, change) => {
    expect(codeOf(() => sshArgv({ ...base, ...change }))).toBe(GitErrorCode.INVALID_ARGUMENT);
  });
});

describe(sshConfig.name, () => {
  let home: string;
  beforeEach(async () => (home = await mkdtemp(path.join(tmpdir(), 'ssh-config-spec-'))));
  afterEach(() => rm(home, { recursive: true, force: true }));
  const target = {
    host: 'forge.example',
    port: 2222,
    addresses: [{ address: '140.82.121.3', family: 4 }],
  } as unknown as VettedRepositoryUrl;

  it('writes the key (mode 600, LF, final newline) and only the pinned keys under the alias', async () => {
    const { gitConfig: config, argv } = await sshConfig(home, target, { privateKey: 'KEY\r\nLINE', hostKey: `ssh-ed25519 ${ED} c` }, 10);
    expect(await readFile(path.join(home, 'ssh-identity'), 'utf8')).toBe('KEY\nLINE\n');
    expect((await stat(path.join(home, 'ssh-identity'))).mode & 0o777).toBe(0o600);
    expect(await readFile(path.join(home, 'ssh-known-hosts'), 'utf8')).toBe(`${PINNED_HOST_ALIAS} ssh-ed25519 ${ED}\n`);
    expect(config).toEqual([expect.stringMatching(/^core\.sshCommand=ssh .*HostName=140\.82\.121\.3'/), 'ssh.variant=ssh']);
    expect(config.join(' ')).not.toContain('KEY');
    expect(argv.join(' ')).not.toContain('KEY');
  });

  it('gives a remote command this process runs the very ssh invocation git runs', async () => {
    const { gitConfig, argv } = await sshConfig(home, target, { privateKey: 'KEY', hostKey: `ssh-ed25519 ${ED}` }, 10);
    const quoted = argv.map((arg, index) => (index > 0 && argv[index - 1] === '-o' ? `'${arg}'` : arg)).join(' ');
    expect(gitConfig[0]).toBe(`core.sshCommand=${quoted}`);
  });
});

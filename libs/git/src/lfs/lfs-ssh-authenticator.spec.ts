import { access, chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GitError } from '../git.error';
import { normalizeRepositoryUrl, UrlPolicy } from '../url-policy';
import { LfsMissingCode } from './lfs-missing';
import { lfsAuthenticateCommand, LfsSshAuthenticator } from './lfs-ssh-authenticator';

const ED = 'AAAAC3NzaC1lZDI1NTE5AAAAIEROtS37RLSzBiHi4g0Q3k8k8MCK3jC4veT/FxtTsOz7';
const PRIVATE_KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nc2VjcmV0LWtleS1ieXRlcw==\n-----END OPENSSH PRIVATE KEY-----\n';
const HREF = 'http://127.0.0.1:3000/owner/repo.git/info/lfs';

/*
 * The server's side is played by an `ssh` found first on the guard's search path: it records the
 * arguments it was run with and answers as the case says (a forge, a server without LFS, a
 * hostile one). Everything else (policy, key files, launcher, deadline, parsing) is the real code.
 */
const SERVERS = {
  forge: `printf '%s' '{"header":{"Authorization":"Bearer t0k3n"},"href":"${HREF}"}'`,
  noLfs: `echo 'error:' >&2; echo 'error: Unknown git command: git-lfs-authenticate' >&2; echo 'error:' >&2; exit 1`,
  denied: `echo 'git@127.0.0.1: Permission denied (publickey).' >&2; exit 255`,
  flood: `exec yes '{"href":"${HREF}"}'`,
  silent: 'exec sleep 600',
  banner: `echo 'Hi there! You have successfully authenticated, but this server does not provide shell access.'`,
  hostileHref: `printf '%s' '{"href":"file:///etc/passwd","header":{"Authorization":"Bearer t"}}'`,
  headerInjection: `printf '%s' '{"href":"${HREF}","header":{"Authorization":"Bearer t\\r\\nX-Evil: 1"}}'`,
};

describe(LfsSshAuthenticator.name, () => {
  let scratch: string;
  beforeEach(async () => (scratch = await mkdtemp(path.join(tmpdir(), 'lfs-ssh-auth-spec-'))));
  afterEach(() => rm(scratch, { recursive: true, force: true }));

  const ask = async (server: keyof typeof SERVERS, url = 'ssh://git@127.0.0.1:2222/owner/repo.git', deadlineMs = 10_000) => {
    const bin = path.join(scratch, `bin-${server}`);
    await mkdir(bin);
    await writeFile(path.join(bin, 'ssh'), `#!/bin/sh\nprintf '%s\\n' "$@" > "${bin}/args"\n${SERVERS[server]}\n`);
    await chmod(path.join(bin, 'ssh'), 0o755);
    const sut = new LfsSshAuthenticator(
      { policy: new UrlPolicy({ allowedHosts: ['127.0.0.1'] }), searchPath: `${bin}:/usr/bin:/bin`, tempDir: scratch },
      () => Date.parse('2026-12-01T00:00:00Z'),
    );
    const credential = { privateKey: PRIVATE_KEY, hostKey: `ssh-ed25519 ${ED}` };
    const result = await sut.access({ url, credential, deadlineMs, signal: AbortSignal.timeout(30_000) });
    const args = (await readFile(path.join(bin, 'args'), 'utf8').catch(() => '')).split('\n').slice(0, -1);
    return { result, args };
  };

  it("runs git-lfs-authenticate through the clone's ssh: own key file, pinned host key, vetted address, the port and login", async () => {
    const { result, args } = await ask('forge');
    expect(result).toEqual({ endpoint: HREF, header: { Authorization: 'Bearer t0k3n' } });
    const home = path.dirname(args.find((a) => a.startsWith('IdentityFile='))!.slice('IdentityFile='.length));
    expect(args.slice(0, 3)).toEqual(['-F', '/dev/null', '-o']);
    for (const setting of [
      'BatchMode=yes',
      `IdentityFile=${home}/ssh-identity`,
      'IdentitiesOnly=yes',
      'IdentityAgent=none',
      'StrictHostKeyChecking=yes',
      `UserKnownHostsFile=${home}/ssh-known-hosts`,
      'HostName=127.0.0.1',
      'ProxyCommand=none',
      'PasswordAuthentication=no',
    ]) {
      expect(args).toContain(setting);
    }
    expect(args.slice(-4)).toEqual(['-p', '2222', 'git@127.0.0.1', "git-lfs-authenticate '/owner/repo.git' download"]);
    expect(args.join('\n')).not.toContain('c2VjcmV0');
    // The key file went with the operation's throw-away home.
    await expect(access(home)).rejects.toThrow();
  });

  it.each([
    [
      'an scp-like URL, path as written',
      'git@127.0.0.1:owner/repo.git',
      ['-p', '22', 'git@127.0.0.1', "git-lfs-authenticate 'owner/repo.git' download"],
    ],
  ])('asks about %s', async (_name, url, tail) => {
    const { args } = await ask('forge', url);
    expect(args.slice(-4)).toEqual(tail);
  });

  it.each<[keyof typeof SERVERS, LfsMissingCode, RegExp]>([
    ['noLfs', LfsMissingCode.UNSUPPORTED_TRANSPORT, /refused git-lfs-authenticate \(exit 1: Unknown git command: git-lfs-authenticate\)/],
    ['denied', LfsMissingCode.AUTH_REFUSED, /git-lfs-authenticate\) failed: .*refused the repository's credential/],
    ['flood', LfsMissingCode.INVALID_ANSWER, /answered more than 65536 bytes/],
    ['banner', LfsMissingCode.INVALID_ANSWER, /not JSON/],
    ['hostileHref', LfsMissingCode.INVALID_ANSWER, /scheme file:/],
    ['headerInjection', LfsMissingCode.INVALID_ANSWER, /header that cannot be sent/],
  ])('records a server that answers like %s as a reason, not a failure', async (server, code, message) => {
    const { result } = await ask(server);
    expect(result).toEqual({ missing: { code, message: expect.stringMatching(message) } });
  });

  it('gives up on a server that never answers at the deadline, killing ssh', async () => {
    const started = Date.now();
    const { result } = await ask('silent', undefined, 1500);
    expect(result).toEqual({ missing: { code: LfsMissingCode.TIMED_OUT, message: expect.stringMatching(/took longer than 1500 ms/) } });
    expect(Date.now() - started).toBeLessThan(8000);
  });

  it('asks nothing of an address the policy blocks', async () => {
    const { result, args } = await ask('forge', 'ssh://git@127.0.0.2:2222/owner/repo.git');
    expect(result).toMatchObject({ missing: { code: LfsMissingCode.BLOCKED_BY_POLICY } });
    expect(args).toEqual([]);
  });

  it("rethrows the caller's abort instead of recording a reason", async () => {
    const sut = new LfsSshAuthenticator({ policy: new UrlPolicy({ allowedHosts: ['127.0.0.1'] }), tempDir: scratch });
    const aborted = AbortSignal.abort(new Error('shutting down'));
    const request = { url: 'ssh://git@127.0.0.1:2222/o/r.git', credential: { privateKey: PRIVATE_KEY }, deadlineMs: 5000, signal: aborted };
    await expect(sut.access(request)).rejects.toThrow('shutting down');
  });
});

describe(lfsAuthenticateCommand.name, () => {
  it.each([
    ['ssh://git@forge.example/owner/repo.git', "git-lfs-authenticate '/owner/repo.git' download"],
    ['ssh://git@forge.example:2222/a/b/c', "git-lfs-authenticate '/a/b/c' download"],
    ['ssh://git@[2001:db8::1]:2222/owner/repo.git', "git-lfs-authenticate '/owner/repo.git' download"],
    ['git@forge.example:owner/repo.git', "git-lfs-authenticate 'owner/repo.git' download"],
    ['git@[2001:db8::1]:owner/repo.git', "git-lfs-authenticate 'owner/repo.git' download"],
    ['git@forge.example:/srv/git/repo.git', "git-lfs-authenticate '/srv/git/repo.git' download"],
  ])('asks about the path of %s as git sends it', (url, command) => {
    expect(lfsAuthenticateCommand(normalizeRepositoryUrl(url))).toBe(command);
  });

  it.each([
    ['an https URL', { url: 'https://forge.example/o/r.git', protocol: 'https:' as const }],
    ['a path with a quote', { url: "ssh://git@forge.example/o/r'x", protocol: 'ssh:' as const }],
    ['a path with a space', { url: 'git@forge.example:o/r x', protocol: 'ssh:' as const }],
    ['no path', { url: 'ssh://git@forge.example', protocol: 'ssh:' as const }],
  ])('refuses %s', (_name, target) => {
    expect(() => lfsAuthenticateCommand(target)).toThrow(GitError);
  });
});

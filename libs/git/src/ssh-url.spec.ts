import { GitError, GitErrorCode } from './git.error';
import { normalizeRepositoryUrl, ResolvedAddress, UrlPolicy } from './url-policy';
import { looksLikeSshUrl, parseSshUrl } from './ssh-url';

const invalid = (why: string): GitError => new GitError(GitErrorCode.INVALID_URL, why);

function refusal(input: string): GitError | undefined {
  try {
    normalizeRepositoryUrl(input);
  } catch (error) {
    if (error instanceof GitError) return error;
    throw error;
  }
  return undefined;
}

describe(parseSshUrl.name, () => {
  it.each([
    ['ssh://git@github.com/owner/repo.git', 'ssh://git@github.com:22/owner/repo.git', 'ssh://git@github.com/owner/repo', 22],
    ['SSH://git@GitHub.COM:22/owner/repo.git/', 'ssh://git@github.com:22/owner/repo.git', 'ssh://git@github.com/owner/repo', 22],
    ['ssh://git@github.com./owner/repo', 'ssh://git@github.com:22/owner/repo', 'ssh://git@github.com/owner/repo', 22],
    ['ssh://gitea@127.0.0.1:2222/org/Repo.git', 'ssh://gitea@127.0.0.1:2222/org/Repo.git', 'ssh://gitea@127.0.0.1:2222/org/Repo', 2222],
    ['ssh://git@[::1]:2222/o/r', 'ssh://git@[::1]:2222/o/r', 'ssh://git@[::1]:2222/o/r', 2222],
    ['git@github.com:owner/repo.git', 'git@github.com:owner/repo.git', 'ssh://git@github.com/owner/repo', 22],
    ['git@github.com:/srv/repo.git', 'git@github.com:/srv/repo.git', 'ssh://git@github.com/srv/repo', 22],
    [
      'my_user.name@git.example.org:~team/repo',
      'my_user.name@git.example.org:~team/repo',
      'ssh://my_user.name@git.example.org/~team/repo',
      22,
    ],
  ])('accepts %s: git gets %s, identity %s', (input, url, normalizedUrl, port) => {
    expect(normalizeRepositoryUrl(input)).toMatchObject({ url, normalizedUrl, port, protocol: 'ssh:' });
  });

  it('gives the ssh:// and scp-like forms of one repository the same identity (one bucket)', () => {
    const forms = ['git@Example.org:o/r.git', 'ssh://git@example.org/o/r', 'ssh://git@example.org:22/o/r.git/', 'git@example.org:/o/r'];
    expect(new Set(forms.map((form) => normalizeRepositoryUrl(form).normalizedUrl)).size).toBe(1);
    expect(normalizeRepositoryUrl('ssh://git@example.org:2222/o/r').normalizedUrl).not.toBe(normalizeRepositoryUrl(forms[0]).normalizedUrl);
    expect(normalizeRepositoryUrl('ssh://other@example.org/o/r').normalizedUrl).not.toBe(normalizeRepositoryUrl(forms[0]).normalizedUrl);
  });

  // Every part git hands to ssh (user@host, -p port) or to the remote shell (path) must be inert.
  it.each([
    ['an option as host', 'ssh://git@-oProxyCommand=touch%20x/o/r'],
    ['an option as host (scp)', 'git@-oProxyCommand=sh:o/r'],
    ['an option as user', 'ssh://-oProxyCommand=x@host/o/r'],
    ['an option as user (scp)', '-oProxyCommand=x@host:o/r'],
    ['a user ending in -', 'ssh://git-@host/o/r'],
    ['a path starting with -', 'git@host:-u/o/r'],
    ['an option as a path segment', 'ssh://git@host/--upload-pack=touch/r'],
    ['a path segment starting with -', 'git@host:o/-r'],
    ['dot-dot', 'git@host:o/../../etc'],
    ['a percent escape', 'ssh://git@host/o/%2e%2e'],
    ['quotes', "git@host:o/r'$(id)'"],
    ['a backslash', 'git@host:o\\r'],
    ['a semicolon', 'git@host:o;id'],
    ['no user', 'ssh://host/o/r'],
    ['a password', 'ssh://git:secret@host/o/r'],
    ['no path', 'ssh://git@host'],
    ['an empty path', 'git@host:'],
    ['a bad port', 'ssh://git@host:0/o/r'],
    ['a huge port', 'ssh://git@host:99999/o/r'],
    ['a port with letters', 'ssh://git@host:22x/o/r'],
    ['brackets around a non-IPv6 host', 'ssh://git@[evil]/o/r'],
    ['a query', 'ssh://git@host/o/r?x=1'],
    ['an underscore-free option host', 'ssh://git@-V/o'],
  ])('refuses %s: %s', (_what, input) => {
    expect(refusal(input)?.code).toBe(GitErrorCode.INVALID_URL);
  });

  it.each(['ext::sh -c touch% /tmp/pwned', 'ext::ssh -oProxyCommand=x', 'git+ssh://git@host/o/r', 'ssh+git://git@host/o/r', 'fd::17'])(
    'refuses other transports that reach a shell or ssh: %s',
    (input) => expect(refusal(input)?.code).toBe(GitErrorCode.INVALID_URL),
  );

  it('only claims SSH forms', () => {
    expect(looksLikeSshUrl('https://user@host/x')).toBe(false);
    expect(looksLikeSshUrl('ssh://git@host/x')).toBe(true);
    expect(looksLikeSshUrl('git@host:x')).toBe(true);
    expect(() => parseSshUrl('https://host/x', invalid)).toThrow(GitError);
  });
});

describe(`${UrlPolicy.name} with SSH URLs`, () => {
  const resolve = async (host: string): Promise<ResolvedAddress[]> =>
    ({
      'forge.example': [{ address: '140.82.121.3', family: 4 as const }],
      'inside.example': [{ address: '10.0.0.7', family: 4 as const }],
    })[host] ?? [];

  it('resolves the host and keeps the vetted addresses, like for https', async () => {
    const sut = new UrlPolicy({ allowedHosts: [], resolve });
    await expect(sut.check('git@forge.example:o/r.git')).resolves.toMatchObject({ addresses: [{ address: '140.82.121.3' }], port: 22 });
  });

  it.each(['ssh://git@inside.example/o/r', 'git@127.0.0.1:o/r', 'ssh://git@[::1]:2222/o/r', 'git@169.254.169.254:o/r'])(
    'refuses %s (internal address, not allowlisted)',
    async (input) => {
      const sut = new UrlPolicy({ allowedHosts: [], resolve });
      await expect(sut.check(input)).rejects.toMatchObject({ code: GitErrorCode.BLOCKED_BY_POLICY });
    },
  );

  it('lets an allowlisted internal host through', async () => {
    const sut = new UrlPolicy({ allowedHosts: ['127.0.0.0/8'], resolve });
    await expect(sut.check('ssh://git@127.0.0.1:2222/o/r')).resolves.toMatchObject({ host: '127.0.0.1', port: 2222 });
  });
});

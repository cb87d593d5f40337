import { rejectionOf } from '@archiver/testing';
import { GitError, GitErrorCode } from './git.error';
import { HostResolver, MAX_URL_LENGTH, normalizeRepositoryUrl, ResolvedAddress, UrlPolicy } from './url-policy';

const v4 = (address: string): ResolvedAddress => ({ address, family: 4 });
const v6 = (address: string): ResolvedAddress => ({ address, family: 6 });
const resolverOf =
  (table: Record<string, ResolvedAddress[]>): HostResolver =>
  async (host) => {
    const answer = table[host];
    if (!answer) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return answer;
  };
const PUBLIC = { 'github.com': [v4('140.82.121.3'), v6('2606:50c0:8000::153')] };

function codeOf(work: () => unknown): GitErrorCode | undefined {
  try {
    work();
  } catch (error) {
    if (error instanceof GitError) return error.code;
    throw error;
  }
  return undefined;
}

describe(normalizeRepositoryUrl.name, () => {
  it('normalises scheme, host, default port, trailing slash and .git for dedupe, keeping path case', () => {
    const a = normalizeRepositoryUrl('HTTPS://GitHub.com:443/Owner/Repo.git/');
    const b = normalizeRepositoryUrl('https://github.com/Owner/Repo');
    expect(a.normalizedUrl).toBe('https://github.com/Owner/Repo');
    expect(b.normalizedUrl).toBe(a.normalizedUrl);
    expect(a).toMatchObject({ url: 'https://github.com/Owner/Repo.git/', host: 'github.com', port: 443, protocol: 'https:' });
    expect(normalizeRepositoryUrl('https://github.com/owner/repo').normalizedUrl).not.toBe(a.normalizedUrl);
  });

  it('keeps a non-default port and reports the default one explicitly', () => {
    expect(normalizeRepositoryUrl('http://git.example.org:8080/x.git')).toMatchObject({
      normalizedUrl: 'http://git.example.org:8080/x',
      port: 8080,
    });
    expect(normalizeRepositoryUrl('http://git.example.org/x').port).toBe(80);
    expect(normalizeRepositoryUrl('https://git.example.org:8443/x').port).toBe(8443);
  });

  it('drops the trailing dot of a host name', () => {
    expect(normalizeRepositoryUrl('https://github.com./a/b')).toMatchObject({ host: 'github.com', url: 'https://github.com/a/b' });
  });

  it.each([
    ['file:///etc/passwd', 'file:'],
    ['ext::sh -c touch% /tmp/pwned', 'ext:'],
    ['git+ssh://git@github.com/owner/repo.git', 'git+ssh:'],
    ['git://github.com/owner/repo.git', 'git:'],
    ['ftp://example.com/repo.git', 'ftp:'],
    ['javascript:alert(1)', 'javascript:'],
  ])('rejects the %s scheme', (input, scheme) => {
    expect(() => normalizeRepositoryUrl(input)).toThrow(scheme);
    expect(codeOf(() => normalizeRepositoryUrl(input))).toBe(GitErrorCode.INVALID_URL);
  });

  it.each(['github.com:owner/repo.git', 'host.example:path'])('rejects the scp-like address %s without a user name', (input) => {
    expect(codeOf(() => normalizeRepositoryUrl(input))).toBe(GitErrorCode.INVALID_URL);
  });

  it.each(['', 'github.com/owner/repo', '/srv/git/repo.git', './repo', 'https://'])('rejects %j', (input) => {
    expect(codeOf(() => normalizeRepositoryUrl(input))).toBe(GitErrorCode.INVALID_URL);
  });

  it.each(['https://user:secret@github.com/o/r', 'https://token@github.com/o/r', 'https://:pw@github.com/o/r'])(
    'rejects credentials in %s without echoing them',
    (input) => {
      let message = '';
      try {
        normalizeRepositoryUrl(input);
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toContain('user name or password');
      expect(message).not.toMatch(/secret|token@|:pw@/);
    },
  );

  it.each([
    'https://github.com/o/r\n',
    'https://github.com/o/r ',
    ' https://github.com/o/r',
    'https://git hub.com/o/r',
    'https://github.com/o/r\tx',
    'https://github.com/o\u0000/r',
    'https://github.com/o/r\u007f',
    'https://github.com/o/r\u0085',
    'https://github.com/o/\u00a0r',
    'https://github.com/o/r\u200b',
    'https://github.com/o/r\u2028',
  ])('rejects whitespace or control characters in %j', (input) => {
    expect(() => normalizeRepositoryUrl(input)).toThrow(/whitespace or control/);
  });

  it('rejects URLs longer than the limit, and accepts one at the limit', () => {
    const prefix = 'https://github.com/';
    expect(normalizeRepositoryUrl(prefix + 'a'.repeat(MAX_URL_LENGTH - prefix.length)).host).toBe('github.com');
    expect(() => normalizeRepositoryUrl(prefix + 'a'.repeat(MAX_URL_LENGTH - prefix.length + 1))).toThrow(/longer than 2048/);
  });

  it('rejects queries and fragments, which git would not treat as part of the repository', () => {
    expect(codeOf(() => normalizeRepositoryUrl('https://github.com/o/r?x=1'))).toBe(GitErrorCode.INVALID_URL);
    expect(codeOf(() => normalizeRepositoryUrl('https://github.com/o/r#main'))).toBe(GitErrorCode.INVALID_URL);
  });

  it.each([
    ['http://2130706433/r', '127.0.0.1'],
    ['http://0177.0.0.1/r', '127.0.0.1'],
    ['http://0x7f.1/r', '127.0.0.1'],
    ['http://0x7f000001/r', '127.0.0.1'],
    ['http://127.1/r', '127.0.0.1'],
    ['http://%31%32%37.0.0.1/r', '127.0.0.1'],
    ['http://[::ffff:127.0.0.1]/r', '::ffff:7f00:1'],
    ['http://[0:0:0:0:0:0:0:1]/r', '::1'],
  ])('resolves the IP notation of %s to %s, and clones that canonical form', (input, host) => {
    const parsed = normalizeRepositoryUrl(input);
    expect(parsed.host).toBe(host);
    expect(parsed.url).toContain(host.includes(':') ? `[${host}]` : host);
  });

  it('re-serialises a backslash so git sees the host that was parsed', () => {
    expect(normalizeRepositoryUrl('http://evil.example\\@github.com/o/r')).toMatchObject({
      host: 'evil.example',
      url: 'http://evil.example/@github.com/o/r',
    });
  });
});

describe(UrlPolicy.name, () => {
  const publicOnly = (extra: Record<string, ResolvedAddress[]> = {}, allowedHosts: string[] = []) =>
    new UrlPolicy({ allowedHosts, resolve: resolverOf({ ...PUBLIC, ...extra }) });

  it('passes a public host and returns every vetted address', async () => {
    const sut = publicOnly();
    await expect(sut.check('https://github.com/o/r.git')).resolves.toMatchObject({
      host: 'github.com',
      port: 443,
      addresses: PUBLIC['github.com'],
    });
  });

  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['169.254.169.254', 'link-local'],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['[::1]', 'loopback'],
    ['[::]', 'unspecified'],
    ['[fe80::1]', 'link-local'],
    ['[febf::1]', 'link-local'],
    ['[fc00::1]', 'unique-local'],
    ['[fd12:3456::1]', 'unique-local'],
    ['[ff02::1]', 'multicast'],
    ['[::ffff:127.0.0.1]', 'loopback'],
    ['[::ffff:10.0.0.1]', 'private'],
    ['[::ffff:a9fe:a9fe]', 'link-local'],
    ['[64:ff9b::a9fe:a9fe]', 'link-local'],
    ['[2002:7f00:1::]', 'loopback'],
    ['[::127.0.0.1]', 'IPv4-compatible'],
  ])('blocks the literal address %s (%s)', async (host, label) => {
    const error = await rejectionOf(publicOnly().check(`http://${host}/r.git`), GitError);
    expect(error.code).toBe(GitErrorCode.BLOCKED_BY_POLICY);
    expect(error.message).toContain(label);
  });

  it.each(['http://2130706433/', 'http://0177.0.0.1/', 'http://0x7f.1/', 'http://127.1/', 'http://0x7f000001/', 'http://017700000001/'])(
    'blocks loopback written as %s',
    async (url) => {
      expect((await rejectionOf(publicOnly().check(url), GitError)).code).toBe(GitErrorCode.BLOCKED_BY_POLICY);
    },
  );

  it.each(['http://8.8.8.8/r', 'http://[2606:4700::1111]/r', 'http://172.32.0.1/r', 'http://100.128.0.1/r', 'http://[::ffff:8.8.8.8]/r'])(
    'allows the public literal %s without DNS',
    async (url) => {
      const sut = new UrlPolicy({ allowedHosts: [], resolve: () => Promise.reject(new Error('no DNS for literals')) });
      await expect(sut.check(url)).resolves.toMatchObject({ addresses: [expect.objectContaining({})] });
    },
  );

  it('blocks a host when any one of its addresses is private', async () => {
    const sut = publicOnly({ 'mixed.example': [v4('140.82.121.3'), v4('10.0.0.7'), v6('2606:50c0:8000::153')] });
    const error = await rejectionOf(sut.check('https://mixed.example/o/r'), GitError);
    expect(error.code).toBe(GitErrorCode.BLOCKED_BY_POLICY);
    expect(error.message).toContain('resolves to 10.0.0.7');
  });

  it('blocks a name that resolves to IPv4-mapped loopback', async () => {
    const sut = publicOnly({ 'sneaky.example': [v6('::ffff:127.0.0.1')] });
    expect((await rejectionOf(sut.check('https://sneaky.example/r'), GitError)).code).toBe(GitErrorCode.BLOCKED_BY_POLICY);
  });

  it('blocks localhost by default', async () => {
    const sut = publicOnly({ localhost: [v4('127.0.0.1'), v6('::1')] });
    expect((await rejectionOf(sut.check('http://localhost:8080/r'), GitError)).code).toBe(GitErrorCode.BLOCKED_BY_POLICY);
  });

  it('allows loopback through CIDRs and addresses, IPv4 CIDRs covering mapped IPv6', async () => {
    const sut = publicOnly({ 'fixture.test': [v4('127.0.0.1'), v6('::1')] }, ['127.0.0.0/8', '::1']);
    await expect(sut.check('http://fixture.test:9418/r')).resolves.toMatchObject({ port: 9418 });
    await expect(sut.check('http://127.1/r')).resolves.toBeDefined();
    await expect(sut.check('http://[::ffff:127.0.0.2]/r')).resolves.toBeDefined();
    await expect(sut.check('http://[::1]:3000/r')).resolves.toBeDefined();
    expect((await rejectionOf(sut.check('http://10.0.0.1/r'), GitError)).code).toBe(GitErrorCode.BLOCKED_BY_POLICY);
    expect((await rejectionOf(sut.check('http://169.254.169.254/r'), GitError)).code).toBe(GitErrorCode.BLOCKED_BY_POLICY);
  });

  it('matches CIDR prefixes exactly', async () => {
    const sut = publicOnly({}, ['10.20.0.0/14', 'fd00:1234::/32']);
    await expect(sut.check('http://10.23.255.255/r')).resolves.toBeDefined();
    expect((await rejectionOf(sut.check('http://10.24.0.0/r'), GitError)).code).toBe(GitErrorCode.BLOCKED_BY_POLICY);
    await expect(sut.check('http://[fd00:1234:ffff::1]/r')).resolves.toBeDefined();
    expect((await rejectionOf(sut.check('http://[fd00:1235::1]/r'), GitError)).code).toBe(GitErrorCode.BLOCKED_BY_POLICY);
  });

  it('allows every address of an allowlisted host name, case-insensitively', async () => {
    const sut = publicOnly({ 'git.internal': [v4('10.0.0.5'), v4('192.168.0.5')] }, [' Git.Internal ', '']);
    await expect(sut.check('https://GIT.internal/r')).resolves.toMatchObject({ addresses: [v4('10.0.0.5'), v4('192.168.0.5')] });
    const other = publicOnly({ 'other.internal': [v4('10.0.0.5')] }, ['git.internal']);
    expect((await rejectionOf(other.check('https://other.internal/r'), GitError)).code).toBe(GitErrorCode.BLOCKED_BY_POLICY);
  });

  it('does not let an allowlisted name vouch for a literal address', async () => {
    const sut = publicOnly({}, ['localhost']);
    expect((await rejectionOf(sut.check('http://127.0.0.1/r'), GitError)).code).toBe(GitErrorCode.BLOCKED_BY_POLICY);
  });

  it.each(['10.0.0.0/33', 'not a host', 'https://x', '::1/129', '1.2.3.4/'])('refuses the allowlist entry %j', (entry) => {
    expect(codeOf(() => new UrlPolicy({ allowedHosts: [entry] }))).toBe(GitErrorCode.INVALID_ARGUMENT);
  });

  it('reports an unknown host as NOT_FOUND and a DNS outage as a transient NETWORK error', async () => {
    const missing = await rejectionOf(publicOnly().check('https://nope.example/r'), GitError);
    expect(missing).toMatchObject({ code: GitErrorCode.NOT_FOUND, transient: false });
    const flaky = new UrlPolicy({
      allowedHosts: [],
      resolve: () => Promise.reject(Object.assign(new Error('try again'), { code: 'EAI_AGAIN' })),
    });
    expect(await rejectionOf(flaky.check('https://github.com/r'), GitError)).toMatchObject({ code: GitErrorCode.NETWORK, transient: true });
    const empty = new UrlPolicy({ allowedHosts: [], resolve: async () => [] });
    expect((await rejectionOf(empty.check('https://github.com/r'), GitError)).code).toBe(GitErrorCode.NOT_FOUND);
  });

  it.each([['not-an-ip'], ['127.0.0.1:99999'], ['example.org:53']])('refuses the DNS server entry %s', (entry) => {
    expect(() => new UrlPolicy({ allowedHosts: [], dnsServers: [entry] })).toThrow(
      expect.objectContaining({ code: GitErrorCode.INVALID_ARGUMENT }),
    );
  });

  it('reports configured DNS servers that do not answer as a transient NETWORK error', async () => {
    // Nothing listens on the discard port of a loopback address: the query is refused at once.
    const sut = new UrlPolicy({ allowedHosts: [], dnsServers: ['127.0.0.1:9'] });
    expect(await rejectionOf(sut.check('https://git.example.org/r'))).toMatchObject({ code: GitErrorCode.NETWORK, transient: true });
  });

  it('validates the URL before resolving anything', async () => {
    const resolve = jest.fn<Promise<ResolvedAddress[]>, [string]>();
    const sut = new UrlPolicy({ allowedHosts: ['127.0.0.0/8'], resolve });
    expect((await rejectionOf(sut.check('file:///etc/passwd'), GitError)).code).toBe(GitErrorCode.INVALID_URL);
    expect(resolve).not.toHaveBeenCalled();
  });
});

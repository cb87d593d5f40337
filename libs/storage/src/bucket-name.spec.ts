import { bucketNameFor, isValidBucketName } from './bucket-name';
import { StorageError, StorageErrorCode } from './storage.error';

const HASH = /-[0-9a-f]{8}$/;

describe(bucketNameFor.name, () => {
  const sut = bucketNameFor;

  it('reads as host and path plus a short hash', () => {
    expect(sut('https://github.com/owner/repo')).toMatch(/^github-com-owner-repo-[0-9a-f]{8}$/);
  });

  it('is stable for the same normalized URL', () => {
    expect(sut('https://github.com/owner/repo')).toBe(sut('https://github.com/owner/repo'));
  });

  it('differs for URLs that slug the same', () => {
    const urls = [
      'https://github.com/owner/my-repo',
      'https://github.com/owner/my_repo',
      'https://github.com/owner/my.repo',
      'https://github.com/Owner/My-Repo',
      'https://github.com/owner/my-repo.git',
      'https://github.com/owner/my-repo/',
      'http://github.com/owner/my-repo',
    ];
    const names = urls.map((url) => sut(url));
    expect(new Set(names).size).toBe(urls.length);
    for (const name of names) expect(name.replace(HASH, '')).toBe('github-com-owner-my-repo');
  });

  it('drops scheme, user info and a trailing .git, keeps the port', () => {
    expect(sut('https://user:secret@git.example.org:8443/group/project.git').replace(HASH, '')).toBe('git-example-org-8443-group-project');
    expect(sut('ssh://git@gitlab.com/a/b.git').replace(HASH, '')).toBe('gitlab-com-a-b');
    expect(sut('git@github.com:owner/repo.git').replace(HASH, '')).toBe('github-com-owner-repo');
  });

  it('folds accents and percent-encoding, drops what has no Latin form', () => {
    expect(sut('https://gitea.example/Ünïcödé/Café').replace(HASH, '')).toBe('gitea-example-unicode-cafe');
    expect(sut('https://gitea.example/%C3%A9t%C3%A9').replace(HASH, '')).toBe('gitea-example-ete');
    expect(sut('https://gitea.example/日本語/リポジトリ').replace(HASH, '')).toBe('gitea-example');
  });

  it('shows international hosts readably rather than as punycode', () => {
    const name = sut('https://bücher.example/x/y');
    expect(name.replace(HASH, '')).toBe('bucher-example-x-y');
    expect(isValidBucketName(name)).toBe(true);
  });

  it('never produces a reserved prefix', () => {
    for (const url of ['https://xn--80ak6aa92e.com/repo', 'https://sthree-foo.com/repo', 'https://amzn-s3-demo-x.com/r']) {
      const name = sut(url);
      expect(isValidBucketName(name)).toBe(true);
      expect(name).not.toMatch(/^(xn--|sthree-|amzn-s3-demo-)/);
    }
    expect(sut('https://sthree-foo.com/repo').startsWith('repo-sthree-foo-com-repo')).toBe(true);
  });

  it('collapses odd characters and never leaves doubled or edge hyphens', () => {
    const name = sut('https://host.example/--weird!!__name~~/.../@@@/x--');
    expect(name.replace(HASH, '')).toBe('host-example-weird-name-x');
    expect(name).not.toMatch(/--|\.\./);
  });

  it('shortens long paths to 63 characters, keeping the host start and the repository name', () => {
    const url = `https://gitlab.example.com/${'deeply-nested-group/'.repeat(10)}the-repository-name`;
    const name = sut(url);
    expect(name.length).toBeLessThanOrEqual(63);
    expect(name).toMatch(/^gitlab-example-com-.*the-repository-name-[0-9a-f]{8}$/);
    expect(isValidBucketName(name)).toBe(true);
  });

  it('keeps distinct names for long URLs that differ only beyond the shortened part', () => {
    const prefix = `https://gitlab.example.com/${'x'.repeat(200)}`;
    expect(sut(`${prefix}/a/common-tail`)).not.toBe(sut(`${prefix}/b/common-tail`));
  });

  it('handles a very long host without path', () => {
    const name = sut(`https://${'sub.'.repeat(40)}example.com/`);
    expect(name.length).toBeLessThanOrEqual(63);
    expect(isValidBucketName(name)).toBe(true);
  });

  it('falls back to "repo" when nothing readable is left', () => {
    expect(sut('https://[::1]/日本').replace(HASH, '')).toBe('1');
    expect(sut('日本語').replace(HASH, '')).toBe('repo');
  });

  it('produces valid names for a spread of inputs', () => {
    const inputs = [
      'https://github.com/a/b',
      'https://192.168.1.1/repo',
      'https://a.b/' + 'é'.repeat(300),
      'file:///srv/git/project.git',
      'https://example.com/-s3alias',
      'https://example.com/x.mrap',
      '   https://example.com/spaces in path   ',
      'https://example.com/\u0000\u0001\u007f',
      'https://example.com/😀/🚀',
      'x',
    ];
    for (const input of inputs) expect([input, isValidBucketName(sut(input))]).toEqual([input, true]);
  });

  it('rejects an empty URL with INVALID', () => {
    expect(() => sut('  ')).toThrow(StorageError);
    try {
      sut('');
    } catch (error) {
      expect((error as StorageError).code).toBe(StorageErrorCode.INVALID);
    }
  });
});

describe(isValidBucketName.name, () => {
  it.each(['abc', 'github-com-owner-repo-3f9a1c2b', 'a'.repeat(63), 'my.bucket.name'])('accepts %s', (name) => {
    expect(isValidBucketName(name)).toBe(true);
  });

  it.each([
    'ab',
    'a'.repeat(64),
    'Upper',
    '-start',
    'end-',
    'a..b',
    'a.-b',
    'under_score',
    '192.168.0.1',
    'xn--abc',
    'sthree-abc',
    'bucket-s3alias',
    'bucket--ol-s3',
  ])('rejects %s', (name) => {
    expect(isValidBucketName(name)).toBe(false);
  });
});

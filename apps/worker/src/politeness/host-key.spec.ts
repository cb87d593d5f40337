import { hostKeyOf } from './host-key';

describe(hostKeyOf.name, () => {
  it.each([
    ['https://GitHub.com/owner/repo.git', 'github.com'],
    ['http://github.com/owner/repo', 'github.com'],
    ['https://github.com:443/owner/repo', 'github.com'],
    ['ssh://git@github.com/owner/repo.git', 'github.com'],
    ['ssh://git@github.com:22/owner/repo.git', 'github.com'],
    ['git@GITHUB.com:owner/repo.git', 'github.com'],
    ['https://github.com./owner/repo', 'github.com'],
  ])('gives %s the key of its host on default ports (%s): one budget for http, https and ssh', (url, key) => {
    expect(hostKeyOf(url)).toBe(key);
  });

  it.each([
    ['http://127.0.0.1:3000/owner/repo.git', '127.0.0.1:3000'],
    ['https://forge.example:8443/owner/repo', 'forge.example:8443'],
    ['ssh://git@127.0.0.1:2222/owner/repo.git', '127.0.0.1:2222'],
    ['http://[::1]:8080/r.git', '[::1]:8080'],
    ['https://[::1]/r.git', '[::1]'],
    ['git@[::1]:owner/repo.git', '[::1]'],
  ])('keeps an explicit port (%s → %s): two servers on one address are two hosts', (url, key) => {
    expect(hostKeyOf(url)).toBe(key);
  });

  it('ignores user names, paths, queries and credentials', () => {
    const keys = ['https://a:b@forge.example/x/y.git', 'https://forge.example/other?x=1#f', 'deploy@forge.example:z/w.git'].map(hostKeyOf);
    expect(new Set(keys)).toEqual(new Set(['forge.example']));
  });
});

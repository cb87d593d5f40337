import { LfsMissingCode } from './lfs-missing';
import { lfsEndpointFor } from './lfs-endpoint';

describe(lfsEndpointFor.name, () => {
  it.each([
    ['https://forge.example/o/r.git', 'https://forge.example/o/r.git/info/lfs'],
    ['https://forge.example/o/r', 'https://forge.example/o/r.git/info/lfs'],
    ['https://forge.example/o/r/', 'https://forge.example/o/r.git/info/lfs'],
    ['http://127.0.0.1:3000/o/r.git', 'http://127.0.0.1:3000/o/r.git/info/lfs'],
  ])('derives the endpoint of %s as git-lfs does', (remote, endpoint) => {
    expect(lfsEndpointFor(remote)).toEqual({ endpoint });
  });

  it('takes lfs.url from .lfsconfig instead', () => {
    expect(lfsEndpointFor('https://forge.example/o/r.git', 'https://lfs.example/x/')).toEqual({ endpoint: 'https://lfs.example/x' });
  });

  it.each([
    ['an ssh:// remote', 'ssh://git@forge.example:2222/o/r.git'],
    ['an scp-like remote', 'git@forge.example:o/r.git'],
    ['an scp-like remote on an IPv6 address', 'git@[2001:db8::1]:o/r.git'],
  ])('asks git-lfs-authenticate for %s without an lfs.url', (_name, remote) => {
    expect(lfsEndpointFor(remote)).toEqual({ sshAuthenticate: true });
  });

  it('takes an http(s) lfs.url over git-lfs-authenticate for an SSH remote, as git-lfs does', () => {
    expect(lfsEndpointFor('ssh://git@forge.example/o/r.git', 'https://lfs.example/x')).toEqual({ endpoint: 'https://lfs.example/x' });
  });

  it.each([
    ['an ssh lfs.url of an SSH remote', 'ssh://git@forge.example/o/r.git', 'ssh://git@lfs.example/x', LfsMissingCode.UNSUPPORTED_TRANSPORT],
    ['an scp-like lfs.url', 'https://forge.example/o/r.git', 'git@lfs.example:x', LfsMissingCode.INVALID_ANSWER],
    ['an ssh lfs.url', 'https://forge.example/o/r.git', 'ssh://git@lfs.example/x', LfsMissingCode.UNSUPPORTED_TRANSPORT],
    ['a file lfs.url', 'https://forge.example/o/r.git', 'file:///etc', LfsMissingCode.UNSUPPORTED_TRANSPORT],
    ['an lfs.url with credentials', 'https://forge.example/o/r.git', 'https://u:p@lfs.example/x', LfsMissingCode.INVALID_ANSWER],
    ['an lfs.url that is no URL', 'https://forge.example/o/r.git', 'not a url', LfsMissingCode.INVALID_ANSWER],
  ])('reports %s as a reason, not an endpoint', (_name, remote, lfsUrl, code) => {
    expect(lfsEndpointFor(remote, lfsUrl)).toEqual({ missing: { code, message: expect.any(String) } });
  });
});

import { consoleUrlFor } from './console-url';

describe(consoleUrlFor.name, () => {
  const sut = consoleUrlFor;

  it('links the prefix URI-encoded, as the pinned console routes it', () => {
    expect(sut('http://localhost:9001', 'github-com-a-b-12345678', 'snapshots/20240102T030405Z-3f9a1c2b/')).toBe(
      'http://localhost:9001/browser/github-com-a-b-12345678/snapshots%2F20240102T030405Z-3f9a1c2b%2F',
    );
  });

  it('links the bucket root without a prefix and tolerates a trailing slash on the base', () => {
    expect(sut('http://localhost:9001/', 'bucket')).toBe('http://localhost:9001/browser/bucket');
  });

  it('encodes characters that would change the URL', () => {
    expect(sut('https://console.example', 'b', 'files/a b#c?d/')).toBe('https://console.example/browser/b/files%2Fa%20b%23c%3Fd%2F');
  });
});

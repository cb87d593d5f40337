import { lfsUrlOf } from './lfs-pointers';

describe(lfsUrlOf.name, () => {
  it.each([
    ['[lfs]\n\turl = https://lfs.example.org/repo\n', 'https://lfs.example.org/repo'],
    ['[lfs]\nurl="http://127.0.0.2:9/x"\n', 'http://127.0.0.2:9/x'],
    ['# comment\n[core]\nurl = no\n[LFS]\n  URL = https://a/b ; trailing\n', 'https://a/b'],
    ['[lfs]\nurl = https://first\nurl = https://second\n', 'https://second'],
  ])('reads lfs.url from %j', (text, url) => {
    expect(lfsUrlOf(text)).toBe(url);
  });

  it.each([['[core]\nurl = https://a\n'], ['url = https://a\n'], ['[lfs "x"]\nurl = https://a\n'], ['[lfs]\nurl =\n'], ['']])(
    'finds none in %j',
    (text) => {
      expect(lfsUrlOf(text)).toBeUndefined();
    },
  );
});

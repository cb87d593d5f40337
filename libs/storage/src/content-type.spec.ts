import { contentTypeFor, OCTET_STREAM } from './content-type';

describe(contentTypeFor.name, () => {
  it.each([
    ['README.md', 'text/markdown'],
    ['docs/notes.txt', 'text/plain'],
    ['img/logo.PNG', 'image/png'],
    ['a/b/photo.jpeg', 'image/jpeg'],
    ['package.json', 'application/json'],
    ['src/main.ts', 'text/plain'],
  ])('types %s as %s', (path, type) => {
    expect(contentTypeFor(path)).toBe(type);
  });

  it.each(['README', 'Makefile', '.gitignore', 'dir.d/noext', 'x.unknownext'])('falls back to octet-stream for %s', (path) => {
    expect(contentTypeFor(path)).toBe(OCTET_STREAM);
  });

  it.each(['index.html', 'a.htm', 'logo.svg', 'x.xhtml', 'app.js', 'feed.xml'])('never serves active content %s as what it is', (path) => {
    expect(contentTypeFor(path)).toBe('text/plain');
  });

  it('types a symlink as bytes whatever its name', () => {
    expect(contentTypeFor('link.md', '120000')).toBe(OCTET_STREAM);
  });
});

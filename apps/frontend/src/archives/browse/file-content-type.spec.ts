import { contentTypeFor, fileResponseHeaders } from './file-content-type';

describe(fileResponseHeaders.name, () => {
  it.each([
    ['README.md', 'text/markdown; charset=utf-8', 'inline'],
    ['notes.txt', 'text/plain; charset=utf-8', 'inline'],
    ['main.ts', 'text/plain; charset=utf-8', 'inline'],
    ['data.json', 'application/json; charset=utf-8', 'inline'],
    ['logo.png', 'image/png', 'inline'],
    ['photo.JPG', 'image/jpeg', 'inline'],
    ['index.html', 'text/html; charset=utf-8', 'attachment'],
    ['page.xhtml', 'application/xhtml+xml', 'attachment'],
    ['icon.svg', 'image/svg+xml', 'attachment'],
    ['feed.xml', 'application/xml', 'attachment'],
    ['app.js', 'text/javascript; charset=utf-8', 'attachment'],
    ['doc.pdf', 'application/pdf', 'attachment'],
    ['Makefile', 'application/octet-stream', 'attachment'],
    ['blob.bin', 'application/octet-stream', 'attachment'],
  ])('%s → %s, %s', (name, type, disposition) => {
    const headers = fileResponseHeaders(name, 'file');
    expect(headers['Content-Type']).toBe(type);
    expect(headers['Content-Disposition'].split(';')[0]).toBe(disposition);
  });

  it('treats a symlink as its target text whatever its name', () => {
    expect(contentTypeFor('page.html', 'symlink')).toBe('text/plain');
  });

  it('names the file exactly (RFC 6266 filename*) with a harmless ASCII fallback', () => {
    expect(fileResponseHeaders('h\u00e9 "x".html', 'file')['Content-Disposition']).toBe(
      `attachment; filename="h_ _x_.html"; filename*=UTF-8''h%C3%A9%20%22x%22.html`,
    );
  });
});

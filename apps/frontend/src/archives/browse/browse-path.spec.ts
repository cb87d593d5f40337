import { ApiError } from '../../api/api.error';
import { browsePathOf, MAX_BROWSE_PATH_BYTES, percentDecodedBytes } from './browse-path';

const text = (bytes: Buffer) => bytes.toString('latin1');

describe(browsePathOf.name, () => {
  it.each([
    [{}, ''],
    [{ path: '' }, ''],
    [{ path: 'docs' }, 'docs'],
    [{ path: '/docs/' }, 'docs'],
    [{ path: 'a/b/c.txt' }, 'a/b/c.txt'],
    [{ path: 'h\u00e9' }, 'h\u00c3\u00a9'],
    [{ pathBase64: '' }, ''],
    [{ pathBase64: Buffer.from([0x61, 0xff]).toString('base64') }, 'a\u00ff'],
    [{ path: '..' }, '..'],
  ])('%j names the bytes %j', (query, expected) => {
    expect(text(browsePathOf(query))).toBe(expected);
  });

  it('takes the path from the address when one is given', () => {
    expect(text(browsePathOf({}, Buffer.from('docs/x.md')))).toBe('docs/x.md');
  });

  it.each([
    [{ path: 'a//b' }],
    [{ path: 'a//' }],
    [{ path: '///' }],
    [{ path: 'a/\0' }],
    [{ path: ['a', 'b'] }],
    [{ pathBase64: '***' }],
    [{ pathBase64: 'YQ' }],
    [{ path: 'a', pathBase64: 'YQ==' }],
    [{ path: 'x'.repeat(MAX_BROWSE_PATH_BYTES + 1) }],
  ])('refuses %j with 400 INVALID_REQUEST', (query) => {
    const error = (() => {
      try {
        browsePathOf(query);
      } catch (caught) {
        return caught;
      }
    })() as ApiError;
    expect(error).toBeInstanceOf(ApiError);
    expect(error.getStatus()).toBe(400);
    expect(error.code).toBe('INVALID_REQUEST');
    expect(error.message).toMatch(/^Malformed path: /);
  });

  it('refuses an address together with path= or pathBase64=', () => {
    expect(() => browsePathOf({ pathBase64: 'YQ==' }, Buffer.from('a'))).toThrow(ApiError);
  });
});

describe(percentDecodedBytes.name, () => {
  it('decodes every %XX to its byte, valid UTF-8 or not', () => {
    expect([...percentDecodedBytes('caf%E9%2Fx%20y')]).toEqual([...Buffer.from('caf'), 0xe9, 0x2f, ...Buffer.from('x y')]);
    expect(percentDecodedBytes('h%C3%A9llo').toString('utf8')).toBe('h\u00e9llo');
  });

  it.each(['%', '%z1', 'a%4'])('refuses the broken escape in %j', (raw) => {
    expect(() => percentDecodedBytes(raw)).toThrow(ApiError);
  });
});

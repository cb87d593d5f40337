import { formatLfsPointer, MAX_POINTER_BYTES, parseLfsPointer } from './lfs-pointer';

const OID = 'a'.repeat(56) + '0123abcd';
const pointer = (...lines: string[]) => Buffer.from(lines.map((l) => `${l}\n`).join(''), 'utf8');
const V1 = 'version https://git-lfs.github.com/spec/v1';

describe(parseLfsPointer.name, () => {
  it.each([
    ['the canonical form', pointer(V1, `oid sha256:${OID}`, 'size 12345'), 12345],
    ['size 0', pointer(V1, `oid sha256:${OID}`, 'size 0'), 0],
    ['the pre-release version URL', pointer('version https://hawser.github.com/spec/v1', `oid sha256:${OID}`, 'size 7'), 7],
    ['extension keys in order', pointer(V1, 'ext-0-foo sha256:' + 'b'.repeat(64), `oid sha256:${OID}`, 'size 9'), 9],
    ['the largest safe size', pointer(V1, `oid sha256:${OID}`, `size ${Number.MAX_SAFE_INTEGER}`), Number.MAX_SAFE_INTEGER],
  ])('reads %s', (_name, blob, size) => {
    const sut = parseLfsPointer(blob);
    expect(sut).toEqual({ oid: OID, size });
  });

  it.each([
    ['an empty blob', Buffer.alloc(0)],
    ['no final newline', Buffer.from(`${V1}\noid sha256:${OID}\nsize 1`)],
    ['CRLF line ends', Buffer.from(`${V1}\r\noid sha256:${OID}\r\nsize 1\r\n`)],
    ['version not first', pointer(`oid sha256:${OID}`, V1, 'size 1')],
    ['an unknown version', pointer('version https://example.org/spec/v2', `oid sha256:${OID}`, 'size 1')],
    ['keys out of order', pointer(V1, 'size 1', `oid sha256:${OID}`)],
    ['a repeated key', pointer(V1, `oid sha256:${OID}`, `oid sha256:${OID}`, 'size 1')],
    ['no size', pointer(V1, `oid sha256:${OID}`)],
    ['no oid', pointer(V1, 'size 1')],
    ['an uppercase oid', pointer(V1, `oid sha256:${OID.toUpperCase()}`, 'size 1')],
    ['a short oid', pointer(V1, `oid sha256:${OID.slice(1)}`, 'size 1')],
    ['another hash', pointer(V1, `oid sha1:${'a'.repeat(40)}`, 'size 1')],
    ['a negative size', pointer(V1, `oid sha256:${OID}`, 'size -1')],
    ['a size with a leading zero', pointer(V1, `oid sha256:${OID}`, 'size 01')],
    ['a size beyond safe integers', pointer(V1, `oid sha256:${OID}`, 'size 9007199254740993')],
    ['a size with text', pointer(V1, `oid sha256:${OID}`, 'size 12kb')],
    ['an empty line', pointer(V1, '', `oid sha256:${OID}`, 'size 1')],
    ['a key with capitals', pointer(V1, `Oid sha256:${OID}`, 'size 1')],
    ['invalid UTF-8', Buffer.concat([pointer(V1, `oid sha256:${OID}`, 'size 1'), Buffer.from([0xff, 0x0a])])],
    ['binary content', Buffer.from([0, 1, 2, 0xff, 0x0a])],
    ['a text file', Buffer.from('hello world\n')],
    ['more than 1024 bytes', pointer(V1, `ext-0-x ${'y'.repeat(MAX_POINTER_BYTES)}`, `oid sha256:${OID}`, 'size 1')],
  ])('refuses %s', (_name, blob) => {
    expect(parseLfsPointer(blob)).toBeNull();
  });

  it('reads back what formatLfsPointer writes', () => {
    expect(parseLfsPointer(formatLfsPointer({ oid: OID, size: 42 }))).toEqual({ oid: OID, size: 42 });
  });
});

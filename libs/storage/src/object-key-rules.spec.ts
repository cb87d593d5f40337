import { exactText, MappedReason, MAX_KEY_BYTES, strictUtf8Decode, unstorableReason } from './object-key-rules';

const FOLDER = 'snapshots/20240102T030405Z-3f9a1c2b/files/';
const bytes = (...parts: (string | number[])[]) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));

describe(unstorableReason.name, () => {
  const sut = unstorableReason;

  it.each([
    'README.md',
    'src/main.ts',
    'a b/c\td\ne\r',
    'back\\slash',
    '...',
    '.hidden/..x/x..',
    '.minio.sys/xl.meta/part.1',
    'caf\u00e9/cafe\u0301',
    '\ufeffbom',
    '\u00a0../..\u0085',
    '😀/名前',
    `${'x'.repeat(255)}/${'é'.repeat(127)}`,
  ])('keeps %j readable', (path) => {
    expect(sut(FOLDER, Buffer.from(path))).toBeNull();
  });

  it('accepts every byte 0x01-0x7f inside a segment but "/" and the controls XML cannot carry', () => {
    const xmlSafe = (byte: number) => byte >= 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d;
    for (let byte = 1; byte < 0x80; byte++) {
      if (byte === 0x2f) continue;
      const expected = xmlSafe(byte) ? null : MappedReason.CONTROL_CHARACTER;
      expect({ byte, reason: sut(FOLDER, bytes('a', [byte], 'z')) }).toEqual({ byte, reason: expected });
    }
    expect(sut(FOLDER, Buffer.from('a\ufffe'))).toBe(MappedReason.CONTROL_CHARACTER);
    expect(sut(FOLDER, Buffer.from('a\uffff'))).toBe(MappedReason.CONTROL_CHARACTER);
  });

  it.each([
    [[0xff]],
    [[0x66, 0x80]],
    [[0xc3]], // truncated sequence
    [[0xc0, 0xaf]], // overlong "/"
    [[0xed, 0xa0, 0x80]], // UTF-16 surrogate encoded in UTF-8
    [[0xf4, 0x90, 0x80, 0x80]], // beyond U+10FFFF
  ])('maps bytes %j that are not UTF-8', (raw) => {
    expect(sut(FOLDER, bytes('dir/', raw))).toBe(MappedReason.NOT_UTF8);
  });

  it.each([
    '',
    '/',
    '/abs',
    'trailing/',
    'a//b',
    '.',
    '..',
    'a/./b',
    'a/..',
    '../x',
    ' ..',
    '.. ',
    '\t.\n',
    'a\\..\\b',
    'a/b\\.',
    'nul\0x',
  ])('maps %j, which MinIO refuses as a key (bad segment)', (path) => {
    expect(sut(FOLDER, Buffer.from(path))).toBe(MappedReason.BAD_SEGMENT);
  });

  it('maps a segment of more than 255 bytes, counting bytes not characters', () => {
    expect(sut(FOLDER, Buffer.from(`a/${'x'.repeat(256)}`))).toBe(MappedReason.SEGMENT_TOO_LONG);
    expect(sut(FOLDER, Buffer.from(`${'é'.repeat(128)}/a`))).toBe(MappedReason.SEGMENT_TOO_LONG);
  });

  it('maps a path whose key would pass 1024 bytes, and keeps one of exactly 1024', () => {
    const room = MAX_KEY_BYTES - Buffer.byteLength(FOLDER);
    const fits = `${'d/'.repeat(Math.floor((room - 100) / 2))}${'e'.repeat(100)}`.padEnd(room, 'f');
    expect(Buffer.byteLength(FOLDER + fits)).toBe(MAX_KEY_BYTES);
    expect(sut(FOLDER, Buffer.from(fits))).toBeNull();
    expect(sut(FOLDER, Buffer.from(`${fits}g`))).toBe(MappedReason.KEY_TOO_LONG);
  });
});

describe(exactText.name, () => {
  it('gives UTF-8 names as they are, BOM included, with no base64', () => {
    expect(exactText(Buffer.from('\ufeffa/é'))).toEqual({ text: '\ufeffa/é' });
    expect(strictUtf8Decode(Buffer.from([0xef, 0xbb, 0xbf]))).toBe('\ufeff');
  });

  it('gives other bytes as readable text plus their exact base64', () => {
    const raw = Buffer.from([0x66, 0xff, 0x2e]);
    expect(exactText(raw)).toEqual({ text: 'f\ufffd.', base64: raw.toString('base64') });
  });
});

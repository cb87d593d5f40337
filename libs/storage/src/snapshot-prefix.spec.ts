import { bundleKey, fileKey, manifestKey, snapshotPrefix } from './snapshot-prefix';
import { StorageErrorCode } from './storage.error';

describe(snapshotPrefix.name, () => {
  const sut = snapshotPrefix;

  it('names the snapshot by UTC time and the start of the archive id', () => {
    const date = new Date('2024-01-02T03:04:05.678Z');
    expect(sut(date, '3f9a1c2b-1111-4222-8333-444455556666')).toBe('snapshots/20240102T030405Z-3f9a1c2b/');
  });

  it('uses UTC whatever the local offset of the date was written in', () => {
    expect(sut(new Date('2024-06-30T23:59:59+02:00'), 'abcdef0123')).toBe('snapshots/20240630T215959Z-abcdef01/');
  });

  it('keeps ids shorter than 8 characters whole', () => {
    expect(sut(new Date(0), 'abc')).toBe('snapshots/19700101T000000Z-abc/');
  });

  it('sorts chronologically as text', () => {
    const earlier = sut(new Date('2023-12-31T23:59:59Z'), 'ffffffff');
    const later = sut(new Date('2024-01-01T00:00:00Z'), '00000000');
    expect([later, earlier].sort()).toEqual([earlier, later]);
  });

  it.each(['', 'a/b', '../x', 'a b'])('rejects archive id %j', (id) => {
    expect(() => sut(new Date(), id)).toThrow(expect.objectContaining({ code: StorageErrorCode.INVALID }));
  });

  it('rejects an invalid date', () => {
    expect(() => sut(new Date('nope'), 'abc')).toThrow(expect.objectContaining({ code: StorageErrorCode.INVALID }));
  });
});

describe('snapshot keys', () => {
  const prefix = 'snapshots/20240102T030405Z-3f9a1c2b/';

  it('places manifest, bundle and files under the prefix', () => {
    expect(manifestKey(prefix)).toBe(`${prefix}manifest.json`);
    expect(bundleKey(prefix)).toBe(`${prefix}repo.bundle`);
    expect(fileKey(prefix, 'src/main.ts')).toBe(`${prefix}files/src/main.ts`);
  });
});

import { createHash } from 'node:crypto';
import { MappedReason } from './object-key-rules';
import { SnapshotKeyAllocator } from './snapshot-key.allocator';
import { StorageErrorCode } from './storage.error';

const PREFIX = 'snapshots/20240102T030405Z-3f9a1c2b/';
const hash = (path: Buffer | string) => createHash('sha256').update(path).digest('hex');

describe(SnapshotKeyAllocator.name, () => {
  let sut: SnapshotKeyAllocator;
  const allocate = (path: string | Buffer) => sut.allocate(Buffer.isBuffer(path) ? path : Buffer.from(path));

  beforeEach(() => {
    sut = new SnapshotKeyAllocator(PREFIX);
  });

  it('keeps readable paths at files/<path>', () => {
    expect(allocate('src/main.ts')).toEqual({ key: `${PREFIX}files/src/main.ts` });
    expect(allocate('src/other.ts')).toEqual({ key: `${PREFIX}files/src/other.ts` });
  });

  it('maps an unstorable path to mapped/<sha256 of its bytes>', () => {
    const raw = Buffer.from([0x61, 0xff]);
    expect(allocate(raw)).toEqual({ key: `${PREFIX}mapped/${hash(raw)}`, mappedBecause: MappedReason.NOT_UTF8 });
    expect(allocate('a/../b')).toEqual({ key: `${PREFIX}mapped/${hash('a/../b')}`, mappedBecause: MappedReason.BAD_SEGMENT });
  });

  it.each([
    ['object first', ['a', 'a/b', 'a/b/c']],
    ['folder first', ['a/b/c', 'a/b', 'a']],
    ['deeper', ['x/y/z', 'x']],
    ['metadata name beside an object', ['m', 'm/xl.meta']],
  ])('never lets one readable key be a folder of another (%s)', (_label, paths) => {
    const keys = paths.map((path) => allocate(path));
    expect(keys[0]).toEqual({ key: `${PREFIX}files/${paths[0]}` });
    for (const later of keys.slice(1)) expect(later.mappedBecause).toBe(MappedReason.PARENT_CONFLICT);
  });

  it('keeps siblings that only share a name prefix readable', () => {
    for (const path of ['a', 'a.txt', 'ab/c', 'a-b/c']) expect(allocate(path).mappedBecause).toBeUndefined();
  });

  it('numbers the files of one path in a tree with duplicate entries, readable or not', () => {
    expect([1, 2, 3].map(() => allocate('dup').key)).toEqual([
      `${PREFIX}files/dup`,
      `${PREFIX}mapped/${hash('dup')}-2`,
      `${PREFIX}mapped/${hash('dup')}-3`,
    ]);
    const raw = Buffer.from([0xfe]);
    expect([1, 2].map(() => allocate(raw).key)).toEqual([`${PREFIX}mapped/${hash(raw)}`, `${PREFIX}mapped/${hash(raw)}-2`]);
    allocate('p');
    expect([1, 2].map(() => allocate('p/q').key)).toEqual([`${PREFIX}mapped/${hash('p/q')}`, `${PREFIX}mapped/${hash('p/q')}-2`]);
  });

  it('gives every file of a hostile tree its own key (names that print alike, NFC/NFD, every byte)', () => {
    const paths: Buffer[] = [];
    for (let byte = 1; byte < 0x100; byte++) paths.push(Buffer.from([0x73, byte]), Buffer.from([0x64, byte, 0x2f, 0x78]));
    paths.push(
      Buffer.from('caf\u00e9'),
      Buffer.from('cafe\u0301'),
      Buffer.from('f\ufffd'),
      Buffer.from([0x66, 0xff]),
      Buffer.from([0x66, 0xfe]),
    );
    paths.push(...paths.slice(0, 20)); // duplicates
    const keys = paths.map((path) => sut.allocate(path).key);
    expect(new Set(keys).size).toBe(paths.length);
  });

  it('refuses to claim one key twice', () => {
    sut.claim(`${PREFIX}repo.bundle`);
    expect(() => sut.claim(`${PREFIX}repo.bundle`)).toThrow(expect.objectContaining({ code: StorageErrorCode.INVALID }));
  });
});

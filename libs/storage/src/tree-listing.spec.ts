import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { decodeTreeListing, encodeTreeListing, gitTreeIdOf, type TreeListingEntry, treeListingKey } from './tree-listing';
import { StorageErrorCode } from './storage.error';

const blob = (name: string | Buffer, id: string, size: number, mode = '100644'): TreeListingEntry => ({
  nameBytes: Buffer.from(name),
  type: 'blob',
  mode,
  id,
  size,
});
const hex = (seed: number) => (seed.toString(16).padStart(2, '0') + 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678').slice(0, 40);

/** The classes of entries a tree holds, and names a key could not spell. */
const cases: Record<string, TreeListingEntry[]> = {
  'an empty tree': [],
  'plain files': [blob('README.md', hex(1), 12), blob('index.ts', hex(2), 0)],
  'a name that is not UTF-8': [blob(Buffer.from([0x66, 0xff, 0xfe]), hex(3), 1)],
  'a name with U+FFFD itself': [blob('f\ufffd', hex(4), 1)],
  'an executable and a symlink': [blob('run.sh', hex(5), 10, '100755'), blob('link', hex(6), 9, '120000')],
  'a directory and a submodule': [
    { nameBytes: Buffer.from('src'), type: 'tree', mode: '040000', id: hex(7) },
    { nameBytes: Buffer.from('vendor'), type: 'commit', mode: '160000', id: hex(8) },
  ],
  'crafted names: slash, dots, controls, duplicates': [
    blob('a/b', hex(9), 1),
    blob('..', hex(10), 1),
    blob('\x01\t\n', hex(11), 1),
    blob('dup', hex(12), 1),
    blob('dup', hex(13), 2),
  ],
  'a long name and a large size': [blob('n'.repeat(4000), hex(14), Number.MAX_SAFE_INTEGER)],
  'sha256 ids': [blob('x', 'ab'.repeat(32), 1)],
};

describe(encodeTreeListing.name, () => {
  it.each(Object.entries(cases))('round-trips %s exactly', (_case, entries) => {
    expect(decodeTreeListing(encodeTreeListing(entries), 'l')).toEqual(entries);
  });

  it('stores gzip-compressed JSON that names non-UTF-8 names by their exact bytes', () => {
    const json = JSON.parse(gunzipSync(encodeTreeListing(cases['a name that is not UTF-8']!)).toString('utf8'));
    expect(json).toEqual({
      version: 1,
      entries: [
        {
          name: 'f\ufffd\ufffd',
          nameBase64: Buffer.from([0x66, 0xff, 0xfe]).toString('base64'),
          type: 'blob',
          mode: '100644',
          id: hex(3),
          size: 1,
        },
      ],
    });
  });

  it('keeps a directory of 100 files far below 10 KB (measured: ~31 bytes an entry)', () => {
    const entries = Array.from({ length: 100 }, (_, i) =>
      blob(`source-file-${i}.ts`, hex(i).replace(/^../, (i * 7).toString(16).padStart(2, '0')), 1000 + i),
    );
    const size = encodeTreeListing(entries).length;
    expect(size).toBeLessThan(4_500);
  });

  it('reads plain (not compressed) JSON too', () => {
    const plain = gunzipSync(encodeTreeListing(cases['plain files']!));
    expect(decodeTreeListing(plain, 'l')).toEqual(cases['plain files']);
  });

  it.each([
    ['not JSON', Buffer.from('nope')],
    ['another version', Buffer.from(JSON.stringify({ version: 2, entries: [] }))],
    ['an entry without id', Buffer.from(JSON.stringify({ version: 1, entries: [{ name: 'a', type: 'blob', mode: '100644', size: 1 }] }))],
    [
      'a blob without size',
      Buffer.from(JSON.stringify({ version: 1, entries: [{ name: 'a', type: 'blob', mode: '100644', id: hex(1) }] })),
    ],
    [
      'a tree with a size',
      Buffer.from(JSON.stringify({ version: 1, entries: [{ name: 'a', type: 'tree', mode: '040000', id: hex(1), size: 3 }] })),
    ],
    ['an unknown type', Buffer.from(JSON.stringify({ version: 1, entries: [{ name: 'a', type: 'tag', mode: '100644', id: hex(1) }] }))],
  ])('refuses %s with INVALID, naming the listing', (_case, stored) => {
    expect(() => decodeTreeListing(stored, 'bucket/trees/ab/cd')).toThrow(
      expect.objectContaining({ code: StorageErrorCode.INVALID, message: expect.stringContaining('bucket/trees/ab/cd') }),
    );
  });
});

describe(treeListingKey.name, () => {
  it('fans listings out by the first two hex digits', () => {
    expect(treeListingKey('ab'.repeat(20))).toBe(`trees/ab/${'ab'.repeat(19)}`);
  });

  it.each(['', 'AB'.repeat(20), '../x', 'a'.repeat(39)])('refuses %j', (id) => {
    expect(() => treeListingKey(id)).toThrow(expect.objectContaining({ code: StorageErrorCode.INVALID }));
  });
});

describe(gitTreeIdOf.name, () => {
  it('computes the id git gives the tree the entries spell (git mktree)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'listing-id-'));
    try {
      execFileSync('git', ['init', '--quiet', '--bare', dir]);
      const put = (text: string) => execFileSync('git', ['hash-object', '-w', '--stdin'], { cwd: dir, input: text }).toString().trim();
      const sub = execFileSync('git', ['mktree'], { cwd: dir, input: `100644 blob ${put('x')}\tx\n` })
        .toString()
        .trim();
      const entries: TreeListingEntry[] = [
        blob('a.txt', put('a'), 1),
        blob('link', put('a.txt'), 5, '120000'),
        blob('run', put('#!'), 2, '100755'),
        { nameBytes: Buffer.from('sub'), type: 'tree', mode: '040000', id: sub },
        { nameBytes: Buffer.from('z-module'), type: 'commit', mode: '160000', id: hex(1) },
      ];
      const spelled = entries.map((e) => `${e.mode} ${e.type} ${e.id}\t${e.nameBytes.toString()}\n`).join('');
      const expected = execFileSync('git', ['mktree', '--missing'], { cwd: dir, input: spelled }).toString().trim();
      expect(gitTreeIdOf(entries)).toBe(expected);
      expect(gitTreeIdOf([])).toBe('4b825dc642cb6eb9a060e54bf8d69288fbee4904');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

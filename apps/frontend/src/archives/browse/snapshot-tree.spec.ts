import type { SnapshotFileEntry } from '@archiver/storage';
import { listDirectory, SnapshotTree, type TreeDirectory } from './snapshot-tree';

const entry = (path: string | Buffer, mode = '100644', size = 1): SnapshotFileEntry => {
  const bytes = typeof path === 'string' ? Buffer.from(path) : path;
  const text = bytes.toString('utf8');
  const exact = Buffer.from(text, 'utf8').equals(bytes);
  return {
    path: text,
    ...(!exact && { pathBase64: bytes.toString('base64') }),
    key: `k/${text}`,
    size,
    mode,
    gitSha: 'a'.repeat(40),
    sha256: 'b'.repeat(64),
  };
};
const dirAt = (sut: SnapshotTree, path: string) => sut.lookup(Buffer.from(path)) as TreeDirectory;

describe(SnapshotTree.name, () => {
  const files = [
    entry('README.md', '100644', 10),
    entry('src/b.ts'),
    entry('src/a/deep.ts'),
    entry('bin/run', '100755', 5),
    entry('link', '120000', 9),
    entry('Zeta/x'),
    entry(Buffer.from([0x6f, 0x64, 0x64, 0x2f, 0xff, 0x2e, 0x74])),
  ];
  const sut = SnapshotTree.fromFiles(files);

  it('lists directories first, then files, each by name bytes, with type, size and mode', () => {
    expect(listDirectory(sut.root)).toEqual([
      { name: 'Zeta', type: 'dir', mode: '040000' },
      { name: 'bin', type: 'dir', mode: '040000' },
      { name: 'odd', type: 'dir', mode: '040000' },
      { name: 'src', type: 'dir', mode: '040000' },
      { name: 'README.md', type: 'file', size: 10, mode: '100644' },
      { name: 'link', type: 'symlink', size: 9, mode: '120000' },
    ]);
    expect(listDirectory(dirAt(sut, 'bin'))).toEqual([{ name: 'run', type: 'executable', size: 5, mode: '100755' }]);
    expect(listDirectory(dirAt(sut, 'src')).map((e) => e.name)).toEqual(['a', 'b.ts']);
  });

  it('finds names by their exact bytes and gives nameBase64 for those that are not UTF-8', () => {
    const [odd] = listDirectory(dirAt(sut, 'odd'));
    expect(odd).toMatchObject({ name: '\ufffd.t', nameBase64: Buffer.from([0xff, 0x2e, 0x74]).toString('base64') });
    const found = sut.lookup(Buffer.from([0x6f, 0x64, 0x64, 0x2f, 0xff, 0x2e, 0x74]));
    expect(found).toMatchObject({ kind: 'file', entry: files[6] });
    // The U+FFFD text is for people: it names nothing.
    expect(sut.lookup(Buffer.from('odd/\ufffd.t'))).toBeUndefined();
  });

  it.each([['nope'], ['README.md/x'], ['src/a/deep.ts/more'], ['SRC']])('finds nothing at %s', (path) => {
    expect(sut.lookup(Buffer.from(path))).toBeUndefined();
  });

  it('answers the root for the empty path, and files as files', () => {
    expect(sut.lookup(Buffer.alloc(0))).toBe(sut.root);
    expect(sut.lookup(Buffer.from('src/a/deep.ts'))).toMatchObject({ kind: 'file', entry: files[2] });
  });

  it('keeps the first of a file and a directory that share a name, and an empty tree is an empty root', () => {
    const clash = SnapshotTree.fromFiles([entry('a'), entry('a/b'), entry('c/d'), entry('c')]);
    expect(listDirectory(clash.root)).toEqual([
      { name: 'c', type: 'dir', mode: '040000' },
      { name: 'a', type: 'file', size: 1, mode: '100644' },
    ]);
    expect(listDirectory(SnapshotTree.fromFiles([]).root)).toEqual([]);
  });
});

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RepositoryReader } from '@archiver/git';
import { commitLfsFiles, fixtureGit, lfsObjectIdOf, lfsPointerText } from '@archiver/testing';
import { findLfsPointers, lfsUrlOf } from './lfs-pointers';

describe(findLfsPointers.name, () => {
  let base: string;
  let work: string;
  let bare: string;
  const main = { path: 'dir with space/\u00fcn\u00efc\u00f6de.bin', bytes: Buffer.from([0, 1, 0xff]) };
  const onBranch = { path: 'branch-only.bin', bytes: Buffer.from('branch') };

  beforeAll(async () => {
    base = await mkdtemp(path.join(tmpdir(), 'lfs-pointers-'));
    work = path.join(base, 'work');
    await fixtureGit(['init', '--quiet', '--initial-branch=main', work], base);
    const bigPointerLookalike = Buffer.concat([Buffer.from(lfsPointerText(lfsObjectIdOf(Buffer.from('x')))), Buffer.alloc(2000, 0x20)]);
    await commitLfsFiles(
      work,
      {
        lfs: [main, { path: 'same/again.bin', bytes: main.bytes }],
        plain: [
          { path: '.lfsconfig', bytes: Buffer.from('[lfs]\n\turl = https://lfs.example/x\n') },
          { path: 'README.md', bytes: Buffer.from('not a pointer\n') },
          { path: 'large.txt', bytes: bigPointerLookalike },
          // A pointer with CRLF lines: not one by the spec.
          { path: 'crlf.bin', bytes: Buffer.from(lfsPointerText(lfsObjectIdOf(Buffer.from('y'))).replace(/\n/g, '\r\n')) },
        ],
      },
      'main',
    );
    await fixtureGit(['checkout', '--quiet', '-b', 'feature'], work);
    await commitLfsFiles(work, { lfs: [onBranch] }, 'feature');
    await fixtureGit(['checkout', '--quiet', 'main'], work);
    await fixtureGit(['tag', 'v1'], work);
    bare = path.join(base, 'bare.git');
    await fixtureGit(['clone', '--quiet', '--mirror', work, bare], base);
  });
  afterAll(() => rm(base, { recursive: true, force: true }));

  const find = async (allRefs: boolean) => {
    const reader = new RepositoryReader(bare);
    const head = await reader.head();
    return findLfsPointers(reader, head.commit, head.refs, { allRefs, signal: AbortSignal.timeout(10_000) });
  };

  it('finds the stored tree’s pointers by parsing blobs, with exact paths and the .lfsconfig url', async () => {
    const sut = await find(false);
    expect(sut.lfsUrl).toBe('https://lfs.example/x');
    expect(
      sut.pointers
        .map((p) => ({ path: p.pathBytes.toString('utf8'), oid: p.oid, ref: p.ref }))
        .sort((a, b) => a.path.localeCompare(b.path)),
    ).toEqual([
      { path: main.path, oid: lfsObjectIdOf(main.bytes).oid, ref: undefined },
      { path: 'same/again.bin', oid: lfsObjectIdOf(main.bytes).oid, ref: undefined },
    ]);
  });

  it('adds the pointers of every other ref tip with LFS_ALL_REFS, each tip once', async () => {
    const sut = await find(true);
    const extra = sut.pointers.filter((p) => p.ref !== undefined);
    expect(extra.map((p) => ({ path: p.pathBytes.toString('utf8'), ref: p.ref, oid: p.oid }))).toEqual(
      expect.arrayContaining([{ path: onBranch.path, ref: 'refs/heads/feature', oid: lfsObjectIdOf(onBranch.bytes).oid }]),
    );
    // The tag and main share the stored commit: not read again.
    expect(extra.some((p) => p.ref === 'refs/tags/v1' || p.ref === 'refs/heads/main')).toBe(false);
  });
});

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

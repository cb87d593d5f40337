import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createFixtureRepos, fixtureBytes, fixtureGit, MULTI_FIXTURE_PATHS, readAll, waitFor, type FixtureRepos } from '@archiver/testing';
import { GitErrorCode } from './git.error';
import { parseTreeLine, RepositoryReader, TreeEntry } from './repository-reader';
import { CraftedRepository } from './tree-crafter';

// The reader works on any bare repository, so these tests read the fixtures in place.
describe(RepositoryReader.name, () => {
  let base: string;
  let repos: FixtureRepos;

  beforeAll(async () => {
    base = await mkdtemp(path.join(tmpdir(), 'archiver-reader-'));
    repos = await createFixtureRepos(base);
  });

  afterAll(async () => {
    if (base) await rm(base, { recursive: true, force: true });
  });

  it('lists refs with peeled annotated tags', async () => {
    const sut = new RepositoryReader(repos.multi);
    const refs = await sut.refs();
    expect(refs.map((r) => r.name)).toEqual([
      'refs/heads/feature/x',
      'refs/heads/main',
      'refs/heads/release',
      'refs/tags/v1.0',
      'refs/tags/v2.0',
    ]);
    const v2 = refs.find((r) => r.name === 'refs/tags/v2.0');
    const main = refs.find((r) => r.name === 'refs/heads/main');
    expect(v2?.peeledSha).toBe(main?.sha);
    expect(refs.find((r) => r.name === 'refs/tags/v1.0')?.peeledSha).toBeUndefined();
  });

  it('finds the default branch and its commit, or null when there are no commits', async () => {
    expect(await new RepositoryReader(repos.trunk).defaultBranch()).toBe('refs/heads/trunk');
    expect(await new RepositoryReader(repos.multi).headCommit()).toMatch(/^[0-9a-f]{40}$/);
    expect(await new RepositoryReader(repos.empty).headCommit()).toBeNull();
    expect(await new RepositoryReader(repos.empty).refs()).toEqual([]);
  });

  it('reads refs, HEAD commit and default branch in one go, agreeing with the separate reads', async () => {
    for (const dir of [repos.multi, repos.trunk, repos.empty]) {
      const sut = new RepositoryReader(dir);
      const commit = await sut.headCommit();
      const defaultBranch = await sut.defaultBranch();
      expect(await sut.head()).toEqual({
        refs: await sut.refs(),
        commit,
        commitSource: commit && 'HEAD',
        commitSourceBytes: commit && Buffer.from('HEAD'),
        defaultBranch,
        defaultBranchBytes: defaultBranch && Buffer.from(defaultBranch),
      });
    }
  });

  it('refuses anything but an object id as the commit to list', async () => {
    const sut = new RepositoryReader(repos.multi);
    await expect(sut.listTree('--output=/tmp/x')).rejects.toMatchObject({ code: GitErrorCode.INVALID_ARGUMENT });
    await expect(sut.listTree('HEAD')).rejects.toMatchObject({ code: GitErrorCode.INVALID_ARGUMENT });
  });

  it('keeps names that are not valid UTF-8, and their raw bytes', async () => {
    const work = path.join(base, 'odd-names');
    await fixtureGit(['init', '--quiet', work], base);
    const rawName = Buffer.from([0x66, 0xff, 0x2e, 0x74, 0x78, 0x74]); // "f\xff.txt"
    await writeFile(Buffer.concat([Buffer.from(`${work}/`), rawName]), 'odd\n');
    await writeFile(path.join(work, '..dots'), 'dots\n');
    await fixtureGit(['add', '--all'], work);
    await fixtureGit(['commit', '--quiet', '-m', 'odd'], work);
    const sut = new RepositoryReader(path.join(work, '.git'));
    const entries = await sut.listTree((await sut.headCommit()) as string);
    const odd = entries.find((e) => e.pathBytes.equals(rawName));
    expect(odd?.path).toBe('f\ufffd.txt');
    expect(entries.map((e) => e.path)).toContain('..dots');
  });

  it('streams blobs through a slow consumer without mixing them up', async () => {
    const sut = new RepositoryReader(repos.multi);
    const entries = await sut.listTree((await sut.headCommit()) as string);
    const wanted = [MULTI_FIXTURE_PATHS.large, 'empty-file.txt', MULTI_FIXTURE_PATHS.symlink, MULTI_FIXTURE_PATHS.binary];
    const ordered = wanted.map((p) => entries.find((e) => e.path === p) as TreeEntry);
    const seen: Array<{ path: string; size: number; bytes: Buffer }> = [];
    for await (const { entry, size, stream } of sut.blobs(ordered)) {
      const chunks: Buffer[] = [];
      // A writable that takes its time, so the reader has to wait on backpressure.
      const slow = new Writable({
        highWaterMark: 1024,
        write(chunk: Buffer, _encoding, done) {
          chunks.push(chunk);
          setImmediate(done);
        },
      });
      await pipeline(stream, slow);
      seen.push({ path: entry.path, size, bytes: Buffer.concat(chunks) });
    }
    expect(seen.map((s) => s.path)).toEqual(wanted);
    expect(seen[0]?.bytes.equals(fixtureBytes(1536 * 1024))).toBe(true);
    expect(seen[1]).toMatchObject({ size: 0, bytes: Buffer.alloc(0) });
    expect(seen[2]?.bytes.toString('utf8')).toBe(MULTI_FIXTURE_PATHS.symlinkTarget);
    expect(seen[3]?.size).toBe(8 + 64 * 1024);
  });

  it('streams more blobs than one prefetch window, in order, from an async source too', async () => {
    const sut = new RepositoryReader(repos.multi);
    const entries = await sut.listTree((await sut.headCommit()) as string);
    const many = Array.from({ length: 600 }, (_, i) => entries[i % entries.length] as TreeEntry);
    async function* slowly(): AsyncGenerator<TreeEntry> {
      for (const entry of many) yield entry;
    }
    for (const source of [many, slowly()]) {
      const seen: string[] = [];
      for await (const { entry, size, stream } of sut.blobs(source)) {
        expect((await readAll(stream)).length).toBe(size);
        seen.push(entry.path);
      }
      expect(seen).toEqual(many.map((e) => e.path));
    }
    // Correctness, not speed: 1,200 blobs take ~1.5 s here, several times that on a loaded machine.
  }, 30_000);

  it('survives a consumer that destroys a stream, or stops iterating early', async () => {
    const sut = new RepositoryReader(repos.multi);
    const entries = await sut.listTree((await sut.headCommit()) as string);
    const large = entries.find((e) => e.path === MULTI_FIXTURE_PATHS.large) as TreeEntry;
    const readme = entries.find((e) => e.path === 'README.md') as TreeEntry;
    const contents: string[] = [];
    await sut.streamBlobs([large, readme, large], async ({ entry, stream }) => {
      if (entry === large) stream.destroy();
      else contents.push((await readAll(stream)).toString('utf8'));
    });
    expect(contents).toEqual([expect.stringContaining('# multi')]);
    for await (const blob of sut.blobs([readme, large])) {
      expect(blob.entry).toBe(readme);
      break;
    }
  });

  it('fails clearly for an object that is not in the repository', async () => {
    const sut = new RepositoryReader(repos.trunk);
    const ghost: TreeEntry = {
      path: 'ghost',
      pathBytes: Buffer.from('ghost'),
      mode: '100644',
      kind: 'file',
      type: 'blob',
      sha: 'f'.repeat(40),
      size: 1,
    };
    await expect(sut.streamBlobs([ghost], async () => undefined)).rejects.toMatchObject({
      code: GitErrorCode.GIT_FAILED,
      message: expect.stringContaining('missing'),
    });
  });

  it('writes a bundle of every ref, and none for an empty repository', async () => {
    const bundle = await new RepositoryReader(repos.trunk).createBundle(path.join(base, 'trunk.bundle'));
    expect(bundle?.sizeBytes).toBeGreaterThan(0);
    const heads = (await fixtureGit(['bundle', 'list-heads', bundle!.path], base)).toString('utf8');
    expect(heads).toContain('refs/heads/trunk');
    expect(await new RepositoryReader(repos.empty).createBundle(path.join(base, 'empty.bundle'))).toBeNull();
    expect(await new RepositoryReader(repos.empty).createBundle(path.join(base, 'empty.bundle'), [])).toBeNull();
  });
});

describe(`${RepositoryReader.name} on crafted repositories`, () => {
  let base: string;
  let repo: CraftedRepository;
  let commits: Record<'old' | 'mid' | 'new', string>;
  let tree: string;
  const bytes = (text: string, ...raw: number[]) => Buffer.concat([Buffer.from(text), Buffer.from(raw)]);

  beforeEach(async () => {
    base = await mkdtemp(path.join(tmpdir(), 'archiver-crafted-'));
    repo = await CraftedRepository.init(path.join(base, 'repo.git'));
    tree = await repo.tree([{ mode: '100644', name: 'a', sha: await repo.blob('a') }]);
    commits = {
      old: await repo.commit(tree, 'old', [], '2020-01-01T00:00:00Z'),
      mid: await repo.commit(tree, 'mid', [], '2022-01-01T00:00:00Z'),
      new: await repo.commit(tree, 'new', [], '2024-01-01T00:00:00Z'),
    };
  });

  afterEach(async () => {
    await rm(base, { recursive: true, force: true });
  });

  it('keeps ref names that are not UTF-8 byte for byte, and HEAD naming one', async () => {
    const odd = bytes('refs/heads/a', 0xff, 0x62);
    const oddTag = bytes('refs/tags/', 0xc3, 0x28);
    await repo.updateRefs([
      { name: odd, sha: commits.new },
      { name: oddTag, sha: commits.old },
    ]);
    await repo.setHead(odd);
    const sut = new RepositoryReader(repo.gitDir);
    const head = await sut.head();
    expect(head.refs.map((r) => r.nameBytes)).toEqual([odd, oddTag]);
    expect(head.refs[0]?.name).toBe('refs/heads/a\ufffdb');
    expect(head).toMatchObject({ commit: commits.new, commitSource: 'HEAD', defaultBranchBytes: odd });
  });

  it.each([
    ['main, whatever else exists', ['refs/heads/main', 'refs/heads/a', 'refs/heads/master', 'refs/tags/t'], 'refs/heads/main'],
    ['master without main', ['refs/heads/master', 'refs/heads/a', 'refs/tags/t'], 'refs/heads/master'],
    ['the first branch by name bytes', ['refs/heads/zeta', 'refs/heads/Alpha', 'refs/heads/beta', 'refs/tags/t'], 'refs/heads/Alpha'],
    ['the newest tag when there is no branch', ['refs/tags/t-old', 'refs/tags/t-new', 'refs/tags/t-mid'], 'refs/tags/t-new'],
    ['any other ref when there are no branches or tags', ['refs/pull/2/head', 'refs/pull/1/head'], 'refs/pull/1/head'],
  ])('when HEAD names a missing branch, stores %s', async (_label, names, expected) => {
    const shaFor = (name: string) => (name.endsWith('old') ? commits.old : name.endsWith('mid') ? commits.mid : commits.new);
    await repo.updateRefs(names.map((name) => ({ name, sha: shaFor(name) })));
    await repo.setHead('refs/heads/gone');
    const head = await new RepositoryReader(repo.gitDir).head();
    expect(head).toMatchObject({ commit: shaFor(expected), commitSource: expected, defaultBranch: 'refs/heads/gone' });
  });

  it('orders tags by their date, annotated or not, and peels tags of tags', async () => {
    const annotated = await repo.tagObject(commits.old, 'commit', 'annotated', Date.parse('2025-01-01') / 1000);
    const nested = await repo.tagObject(annotated, 'tag', 'nested', Date.parse('2026-01-01') / 1000);
    await repo.updateRefs([
      { name: 'refs/tags/light', sha: commits.new },
      { name: 'refs/tags/annotated', sha: annotated },
      { name: 'refs/tags/nested', sha: nested },
    ]);
    await repo.setHead('refs/heads/gone');
    expect(await new RepositoryReader(repo.gitDir).head()).toMatchObject({ commit: commits.old, commitSource: 'refs/tags/nested' });
  });

  it('is empty only when no ref leads to a commit', async () => {
    const blobTag = await repo.tagObject(await repo.blob('x'), 'blob', 'blob', 0);
    await repo.updateRefs([
      { name: 'refs/tags/tree', sha: tree },
      { name: 'refs/tags/blob', sha: blobTag },
    ]);
    await repo.setHead('refs/heads/gone');
    const sut = new RepositoryReader(repo.gitDir);
    expect(await sut.head()).toMatchObject({ commit: null, commitSource: null, defaultBranch: 'refs/heads/gone' });
    expect((await sut.head()).refs).toHaveLength(2);
  });

  it('lists every entry of a crafted tree with its exact bytes: duplicates, dots, any byte', async () => {
    const blob = await repo.blob('x');
    // Not an empty name: git itself refuses to read such a tree ("empty filename in tree entry").
    const names = [bytes('dup'), bytes('dup'), bytes('..'), bytes('.'), bytes('/x'), bytes('a/b'), bytes('y/'), bytes('', 0xff, 0xfe)];
    const sub = await repo.tree(names.map((name) => ({ mode: '100644', name, sha: blob })));
    const top = await repo.tree([{ mode: '40000', name: 'd', sha: sub }]);
    const sut = new RepositoryReader(repo.gitDir);
    const entries = await sut.listTree(await repo.commit(top));
    expect(entries.map((e) => e.pathBytes)).toEqual(names.map((name) => Buffer.concat([Buffer.from('d/'), name])));
  });

  describe('cancelled by an AbortSignal', () => {
    const aborted = { code: GitErrorCode.ABORTED };

    it('refuses to start, for every operation', async () => {
      const sut = new RepositoryReader(repo.gitDir);
      const signal = AbortSignal.abort();
      await expect(sut.listTree(commits.new, { signal })).rejects.toMatchObject(aborted);
      await expect(sut.head({ signal })).rejects.toMatchObject(aborted);
      await expect(sut.createBundle(path.join(base, 'x.bundle'), undefined, { signal })).rejects.toMatchObject(aborted);
      await expect(sut.streamBlobs([], async () => undefined, { signal })).rejects.toMatchObject(aborted);
    });

    it('kills a running git and rejects promptly (listTree, createBundle)', async () => {
      // A git that never finishes by itself: the signal is the only way out.
      const sut = new RepositoryReader(repo.gitDir, { gitBinary: path.join(base, 'stuck-git') });
      // Each start leaves a line in stuck-git.log, so the abort lands while that git runs.
      const startLog = path.join(base, 'stuck-git.log');
      await writeFile(path.join(base, 'stuck-git'), `#!/bin/sh\necho started >> '${startLog}'\nexec sleep 60\n`, { mode: 0o755 });
      const starts = async () => (await readFile(startLog, 'utf8').catch(() => '')).split('\n').filter(Boolean).length;
      for (const run of [
        (signal: AbortSignal) => sut.listTree(commits.new, { signal }),
        (signal: AbortSignal) =>
          sut
            .createBundle(path.join(base, 'y.bundle'), [], { signal })
            .then(() => sut.createBundle(path.join(base, 'y.bundle'), undefined, { signal })),
      ]) {
        const controller = new AbortController();
        const startsBefore = await starts();
        const started = Date.now();
        const running = run(controller.signal);
        await waitFor('the stuck git to start', async () => ((await starts()) > startsBefore ? true : undefined), 5000, 10);
        controller.abort();
        await expect(running).rejects.toMatchObject(aborted);
        expect(Date.now() - started).toBeLessThan(5000);
      }
    });

    it('kills cat-file mid-blob: the stream being read fails with ABORTED, and so does the iteration', async () => {
      const big = Buffer.alloc(8 * 1024 * 1024, 7);
      const sha = await repo.blob(big);
      const top = await repo.tree([
        { mode: '100644', name: 'big', sha },
        { mode: '100644', name: 'next', sha: await repo.blob('n') },
      ]);
      const sut = new RepositoryReader(repo.gitDir);
      const entries = await sut.listTree(await repo.commit(top));
      const controller = new AbortController();
      const seen: string[] = [];
      const iterating = sut.streamBlobs(
        entries,
        async ({ entry, stream }) => {
          seen.push(entry.path);
          const first = await new Promise<Buffer>((resolve) => stream.once('data', resolve));
          expect(first.length).toBeGreaterThan(0);
          stream.pause();
          controller.abort();
          await expect(readAll(stream.resume())).rejects.toMatchObject(aborted);
        },
        { signal: controller.signal },
      );
      await expect(iterating).rejects.toMatchObject(aborted);
      expect(seen).toEqual(['big']);
    });
  });
});

describe(`${RepositoryReader.name}.fastForwards`, () => {
  let base: string;
  let repos: FixtureRepos;
  const revParse = async (gitDir: string, rev: string) => (await fixtureGit(['rev-parse', rev], gitDir)).toString().trim();

  beforeAll(async () => {
    base = await mkdtemp(path.join(tmpdir(), 'archiver-ancestry-'));
    repos = await createFixtureRepos(base);
  });

  afterAll(async () => {
    if (base) await rm(base, { recursive: true, force: true });
  });

  it('answers per pair: ancestor, same commit, sibling, backwards, absent object, and tags peeled to commits', async () => {
    const sut = new RepositoryReader(repos.multi);
    const [main, parent, tagObject] = await Promise.all([
      revParse(repos.multi, 'refs/heads/main'),
      revParse(repos.multi, 'refs/heads/main~1'),
      revParse(repos.multi, 'refs/tags/v2.0'),
    ]);
    // A commit on another line of history: main's tree on top of main's parent's parent's... nothing.
    const orphan = (await fixtureGit(['commit-tree', 'refs/heads/main^{tree}', '-m', 'rewritten history'], repos.multi)).toString().trim();
    const missing = 'e'.repeat(40);
    const answers = await sut.fastForwards([
      { from: parent, to: main },
      { from: main, to: main },
      { from: main, to: parent },
      { from: main, to: orphan },
      { from: missing, to: main },
      { from: main, to: missing },
      { from: parent, to: tagObject },
    ]);
    expect(answers).toEqual([true, true, false, false, false, false, true]);
    expect(await sut.fastForwards([])).toEqual([]);
  });

  it('refuses anything that is not an object id', async () => {
    await expect(new RepositoryReader(repos.multi).fastForwards([{ from: '--all', to: 'HEAD' }])).rejects.toThrow();
  });
});

describe(parseTreeLine.name, () => {
  const sha = 'a'.repeat(40);

  it('parses files, executables and symlinks and skips submodules', () => {
    expect(parseTreeLine(Buffer.from(`100644 blob ${sha}     12\tdir/a b.txt`))).toMatchObject({
      path: 'dir/a b.txt',
      kind: 'file',
      size: 12,
    });
    expect(parseTreeLine(Buffer.from(`100755 blob ${sha}      1\tbin/x`))?.kind).toBe('executable');
    expect(parseTreeLine(Buffer.from(`120000 blob ${sha}      9\tlink`))?.kind).toBe('symlink');
    expect(parseTreeLine(Buffer.from(`160000 commit ${sha}       -\tvendor/sub`))).toBeNull();
  });

  it('keeps tabs and newlines inside names (they are NUL-separated)', () => {
    expect(parseTreeLine(Buffer.from(`100644 blob ${sha}      3\ta\tb\nc`))?.path).toBe('a\tb\nc');
  });

  it('rejects lines it does not understand', () => {
    expect(() => parseTreeLine(Buffer.from(`040000 tree ${sha}       -\tdir`))).toThrow(/Unexpected/);
    expect(() => parseTreeLine(Buffer.from('garbage'))).toThrow(/Unexpected/);
  });
});

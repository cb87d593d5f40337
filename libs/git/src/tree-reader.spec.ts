import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GitErrorCode } from './git.error';
import { RepositoryReader } from './repository-reader';
import { CraftedRepository } from './tree-crafter';
import { parseTreeObject, readTrees, treeType } from './tree-reader';

/** `git ls-tree -z --long <tree>` (one level), as git itself reports each entry. */
async function lsTree(repo: CraftedRepository, tree: string) {
  const out = await repo.git(['ls-tree', '-z', '--long', tree]);
  const entries = [];
  for (let start = 0, nul = out.indexOf(0); nul >= 0; start = nul + 1, nul = out.indexOf(0, start)) {
    const line = out.subarray(start, nul);
    const tab = line.indexOf(0x09);
    const [mode = '', type = '', id = '', size = ''] = line.subarray(0, tab).toString('latin1').split(/ +/);
    entries.push({ nameBytes: Buffer.from(line.subarray(tab + 1)), mode, type, id, ...(size !== '-' && { size: Number(size) }) });
  }
  return entries;
}

describe(readTrees.name, () => {
  let base: string;
  let repo: CraftedRepository;

  beforeAll(async () => {
    base = await mkdtemp(path.join(tmpdir(), 'archiver-trees-'));
    repo = await CraftedRepository.init(path.join(base, 'crafted.git'));
  });

  afterAll(async () => {
    if (base) await rm(base, { recursive: true, force: true });
  });

  it('reads every entry of every tree exactly as git lists it: odd names, symlinks, executables, submodules, duplicates', async () => {
    const text = await repo.blob('text\n');
    const empty = await repo.tree([]);
    const inner = await repo.tree([
      { mode: '100755', name: 'run.sh', sha: await repo.blob('#!/bin/sh\n') },
      { mode: '120000', name: 'link', sha: await repo.blob('../target') },
    ]);
    const shared = await repo.tree([{ mode: '100644', name: 'same.txt', sha: text }]);
    const root = await repo.tree([
      { mode: '100644', name: Buffer.from([0x66, 0xff]), sha: text },
      { mode: '100644', name: 'has/slash', sha: text },
      { mode: '100644', name: 'dup', sha: text },
      { mode: '100644', name: 'dup', sha: await repo.blob('other\n') },
      { mode: '40000', name: 'a', sha: shared },
      { mode: '40000', name: 'b', sha: shared },
      { mode: '40000', name: 'empty', sha: empty },
      { mode: '40000', name: 'inner', sha: inner },
      { mode: '160000', name: 'module', sha: 'c'.repeat(40) },
    ]);
    const commit = await repo.commit(root);

    const sut = await new RepositoryReader(repo.gitDir).trees(commit);

    expect(sut.root).toBe(root);
    // Identical directories are one tree, read once.
    expect([...sut.trees.keys()].sort()).toEqual([root, shared, empty, inner].sort());
    for (const [id, entries] of sut.trees) expect({ id, entries }).toEqual({ id, entries: await lsTree(repo, id) });
  });

  it('reads a deep tree level by level: one git process per level, not per tree', async () => {
    let tree = await repo.tree([{ mode: '100644', name: 'leaf', sha: await repo.blob('deep\n') }]);
    for (let depth = 0; depth < 40; depth++) tree = await repo.tree([{ mode: '40000', name: `d${depth % 10}`, sha: tree }]);
    const sut = await readTrees(repo.gitDir, {}, tree);
    expect(sut.trees.size).toBe(41);
  }, 30_000);

  it('skips the trees the caller knows, and what is under them', async () => {
    const known = await repo.tree([{ mode: '100644', name: 'x', sha: await repo.blob('x\n') }]);
    const upper = await repo.tree([{ mode: '40000', name: 'known', sha: known }]);
    const root = await repo.tree([{ mode: '40000', name: 'upper', sha: upper }]);
    const sut = await readTrees(repo.gitDir, {}, root, { skip: (id) => id === upper });
    expect([...sut.trees.keys()]).toEqual([root]);
    expect(sut.trees.get(root)).toEqual([{ nameBytes: Buffer.from('upper'), mode: '040000', type: 'tree', id: upper }]);
  });

  it('fails with GIT_FAILED when a tree is missing', async () => {
    const missing = 'd'.repeat(40);
    const root = await repo.tree([{ mode: '40000', name: 'gone', sha: missing }]);
    await expect(readTrees(repo.gitDir, {}, root)).rejects.toMatchObject({ code: GitErrorCode.GIT_FAILED });
  });
});

describe(parseTreeObject.name, () => {
  it.each([
    ['40000', '040000'],
    ['100664', '100644'],
    ['100775', '100755'],
    ['120000', '120000'],
    ['160000', '160000'],
  ])('reads mode %s as git does (%s)', (stored, canonical) => {
    const body = Buffer.concat([Buffer.from(`${stored} n\0`), Buffer.alloc(20, 0xab)]);
    expect(parseTreeObject(body, 'f'.repeat(40))).toEqual([{ name: Buffer.from('n'), mode: canonical, id: 'ab'.repeat(20) }]);
  });

  it.each([
    ['no NUL', Buffer.from('100644 name')],
    ['a short id', Buffer.concat([Buffer.from('100644 n\0'), Buffer.alloc(5)])],
    ['a mode that is not octal', Buffer.concat([Buffer.from('10x644 n\0'), Buffer.alloc(20)])],
  ])('refuses a tree with %s', (_case, body) => {
    expect(() => parseTreeObject(body, 'f'.repeat(40))).toThrow(/malformed/);
  });

  it('types entries by mode', () => {
    expect(['040000', '160000', '100644', '100755', '120000'].map(treeType)).toEqual(['tree', 'commit', 'blob', 'blob', 'blob']);
  });
});

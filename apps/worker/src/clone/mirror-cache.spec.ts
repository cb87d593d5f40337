import { Logger } from '@nestjs/common';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, unlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { AppConfig } from '@archiver/config';
import type { ArchiveRepository } from '@archiver/database';
import { directorySize, GitError, GitErrorCode, RepositoryReader, SafeCloner } from '@archiver/git';
import { manifestRefs, ObjectStoreRepository } from '@archiver/storage';
import { MirrorCache, MirrorVisit } from './mirror-cache';

const IDENTITY = {
  GIT_AUTHOR_NAME: 't',
  GIT_AUTHOR_EMAIL: 't@example.test',
  GIT_COMMITTER_NAME: 't',
  GIT_COMMITTER_EMAIL: 't@example.test',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_NOSYSTEM: '1',
};
const git = (cwd: string, ...args: string[]): string =>
  execFileSync('git', args, { cwd, env: { ...process.env, ...IDENTITY }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
const visitOf = (n: number, bucket = 'repo-a'): MirrorVisit => ({
  id: `visit-${n}`,
  repositoryId: `repository-${bucket}`,
  url: `source:${bucket}`,
  bucket,
});

// The cache decides when a kept mirror may be built on; git itself is real, and the "remote" is
// a local repository the stand-in cloner clones and fetches (SafeCloner's guard has its own tests).
describe(MirrorCache.name, () => {
  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(['log', 'warn', 'error']));

  let base: string;
  let sources: Record<string, string>;
  let cloner: { clone: jest.Mock; fetchInto: jest.Mock };
  /** What the last completed snapshot of each repository recorded: its refs, read back from a "manifest". */
  let lastSnapshot: Map<string, { id: string; bucket: string; prefix: string; refs: unknown }>;
  let runs = 0;

  const commit = (bucket: string, file = `f${Math.random()}`): void => {
    const work = path.join(base, `work-${bucket}`);
    execFileSync('sh', ['-c', `echo "${file}" > "${file}"`], { cwd: work });
    git(work, 'add', '-A');
    git(work, 'commit', '-q', '-m', file);
    git(work, 'push', '-q', '--mirror', sources[bucket] as string);
  };
  const recordSnapshot = async (visit: MirrorVisit): Promise<void> => {
    const refs = manifestRefs(await new RepositoryReader(sources[visit.bucket] as string).refs());
    lastSnapshot.set(visit.repositoryId, { id: visit.id, bucket: visit.bucket, prefix: `snapshots/${visit.id}/`, refs });
  };
  const runDir = (): string => {
    const dir = path.join(base, 'work', `archive-run-${++runs}`);
    mkdirSync(dir, { recursive: true });
    return dir;
  };
  const mirrors = (): string[] => readdirSync(path.join(base, 'work', 'mirrors')).sort();
  const cachedDir = (bucket: string): string => path.join(base, 'work', 'mirrors', `${bucket}.git`);
  const newSut = (capBytes = 1024 ** 3): MirrorCache =>
    new MirrorCache(
      {
        clone: { workDir: path.join(base, 'work'), timeoutMs: 10_000, maxBytes: 1e9 },
        worker: { mirrorCacheBytes: capBytes },
      } as AppConfig,
      cloner as unknown as SafeCloner,
      {
        findPreviousCompletedVisit: jest.fn(async (repositoryId: string) => lastSnapshot.get(repositoryId) ?? null),
      } as unknown as ArchiveRepository,
      {
        getObject: jest.fn(async (bucket: string, key: string) => {
          const found = [...lastSnapshot.values()].find((s) => s.bucket === bucket && `${s.prefix}manifest.json` === key);
          if (!found) throw new Error(`no ${bucket}/${key}`);
          return Readable.from([Buffer.from(JSON.stringify({ refs: found.refs }))]);
        }),
      } as unknown as ObjectStoreRepository,
    );
  /** One whole visit: obtain, check the result is the source exactly, complete, give back. */
  const visit = async (sut: MirrorCache, n: number, bucket = 'repo-a') => {
    const lease = await sut.obtain(visitOf(n, bucket), runDir(), new AbortController().signal);
    expect(git(lease.gitDir, 'for-each-ref')).toBe(git(sources[bucket] as string, 'for-each-ref'));
    await recordSnapshot(visitOf(n, bucket));
    await sut.giveBack(lease);
    return lease;
  };

  beforeEach(() => {
    base = mkdtempSync(path.join(os.tmpdir(), 'mirror-cache-'));
    sources = {};
    for (const bucket of ['repo-a', 'repo-b', 'repo-c']) {
      const work = path.join(base, `work-${bucket}`);
      mkdirSync(work);
      git(work, 'init', '-q', '--initial-branch=main');
      sources[bucket] = path.join(base, `${bucket}.git`);
      git(base, 'init', '-q', '--bare', sources[bucket] as string);
      commit(bucket, 'first');
    }
    lastSnapshot = new Map();
    const sourceOf = (url: string): string => sources[url.replace('source:', '')] as string;
    cloner = {
      clone: jest.fn(async ({ url, dir }: { url: string; dir: string }) => {
        // Through git's transport (as over HTTP): objects arrive as a pack, not hard links.
        git(base, 'clone', '-q', '--mirror', '--no-local', sourceOf(url), dir);
        return { gitDir: dir };
      }),
      fetchInto: jest.fn(async ({ url, gitDir }: { url: string; gitDir: string }) => {
        git(gitDir, 'fetch', '-q', '--prune', sourceOf(url), '+refs/*:refs/*');
        return { gitDir };
      }),
    };
  });

  afterEach(() => rmSync(base, { recursive: true, force: true }));

  it('clones on a miss, then fetches into the mirror the last visit gave back', async () => {
    const sut = newSut();
    expect((await visit(sut, 1)).via).toBe('cloned');
    expect(mirrors()).toEqual(['repo-a.git']);
    commit('repo-a');
    expect((await visit(sut, 2)).via).toBe('fetched');
    expect(cloner.clone).toHaveBeenCalledTimes(1);
    expect(cloner.fetchInto).toHaveBeenCalledTimes(1);
  });

  it('holds a mirror exclusively: while one run has it, another run of the repository clones', async () => {
    const sut = newSut();
    await visit(sut, 1);
    const first = await sut.obtain(visitOf(2), runDir(), new AbortController().signal);
    expect(mirrors()).toEqual([]);
    const second = await sut.obtain(visitOf(3), runDir(), new AbortController().signal);
    expect([first.via, second.via]).toEqual(['fetched', 'cloned']);
    expect(first.gitDir).not.toBe(second.gitDir);
    // Both give back; the cache keeps one and the other goes with its run's dir.
    await sut.giveBack(first);
    await sut.giveBack(second);
    expect(mirrors()).toEqual(['repo-a.git']);
  });

  it.each<[string, (gitDir: string) => void]>([
    [
      'an object file is missing',
      (gitDir) => {
        const pack = path.join(gitDir, 'objects', 'pack');
        for (const file of readdirSync(pack)) unlinkSync(path.join(pack, file));
      },
    ],
    [
      'a ref was moved to an object it does not have',
      (gitDir) => git(gitDir, 'update-ref', 'refs/heads/main', 'f'.repeat(40), '--no-deref'),
    ],
    ['a ref was moved to another commit it has', (gitDir) => git(gitDir, 'update-ref', 'refs/heads/main', 'refs/heads/main~1')],
    ['it holds a ref the last snapshot does not', (gitDir) => git(gitDir, 'update-ref', 'refs/heads/extra', 'refs/heads/main')],
    ['it is not a repository any more', (gitDir) => unlinkSync(path.join(gitDir, 'HEAD'))],
  ])('discards the mirror and clones in full when %s', async (_what, damage) => {
    const sut = newSut();
    commit('repo-a', 'second');
    await visit(sut, 1);
    try {
      damage(cachedDir('repo-a'));
    } catch {
      // update-ref refuses a missing object; write the ref file directly, as a broken disk would.
      execFileSync('sh', ['-c', `echo ${'f'.repeat(40)} > refs/heads/main; rm -f packed-refs`], { cwd: cachedDir('repo-a') });
    }
    commit('repo-a');
    const lease = await visit(sut, 2);
    expect(lease.via).toBe('cloned');
    expect(cloner.fetchInto).not.toHaveBeenCalled();
    expect(git(cachedDir('repo-a'), 'fsck', '--no-progress')).toBe('');
  });

  it('clones in full when there is no completed snapshot to check the mirror against, or it lives in another bucket', async () => {
    const sut = newSut();
    await visit(sut, 1);
    lastSnapshot.clear();
    expect((await visit(sut, 2)).via).toBe('cloned');
    const last = lastSnapshot.get('repository-repo-a');
    if (last) lastSnapshot.set('repository-repo-a', { ...last, bucket: 'elsewhere' });
    expect((await visit(sut, 3)).via).toBe('cloned');
  });

  it.each([GitErrorCode.GIT_FAILED, GitErrorCode.CORRUPT_REPOSITORY, GitErrorCode.TOO_LARGE])(
    'falls back to a full clone when the fetch fails %s (the mirror may be at fault)',
    async (code) => {
      const sut = newSut();
      await visit(sut, 1);
      cloner.fetchInto.mockRejectedValueOnce(new GitError(code, 'the mirror broke'));
      commit('repo-a');
      expect((await visit(sut, 2)).via).toBe('cloned');
    },
  );

  it.each([
    GitErrorCode.NOT_FOUND,
    GitErrorCode.AUTH_REQUIRED,
    GitErrorCode.BLOCKED_BY_POLICY,
    GitErrorCode.TIMED_OUT,
    GitErrorCode.NETWORK,
  ])('fails like a clone when the fetch fails %s (the remote is at fault), without cloning', async (code) => {
    const sut = newSut();
    await visit(sut, 1);
    cloner.fetchInto.mockRejectedValueOnce(new GitError(code, 'the remote said no'));
    await expect(sut.obtain(visitOf(2), runDir(), new AbortController().signal)).rejects.toMatchObject({ code });
    expect(cloner.clone).toHaveBeenCalledTimes(1);
  });

  it('stops when the run is aborted, without falling back to a clone', async () => {
    const sut = newSut();
    await visit(sut, 1);
    const controller = new AbortController();
    cloner.fetchInto.mockImplementationOnce(async () => {
      controller.abort(new Error('shutting down'));
      throw new GitError(GitErrorCode.ABORTED, 'aborted');
    });
    await expect(sut.obtain(visitOf(2), runDir(), controller.signal)).rejects.toThrow('shutting down');
    expect(cloner.clone).toHaveBeenCalledTimes(1);
  });

  it('evicts the least recently given back mirrors to stay under its cap', async () => {
    const probe = newSut();
    await visit(probe, 1, 'repo-a');
    const oneMirror = await directorySize(cachedDir('repo-a'));
    // Room for two mirrors of this size, not three.
    const sut = newSut(Math.floor(oneMirror * 2.5));
    await visit(sut, 2, 'repo-b');
    expect(mirrors()).toEqual(['repo-a.git', 'repo-b.git']);
    await visit(sut, 3, 'repo-a'); // repo-a is now the most recently used
    await visit(sut, 4, 'repo-c');
    expect(mirrors()).toEqual(['repo-a.git', 'repo-c.git']);
  });

  it('with a cap of 0 never keeps a mirror', async () => {
    const sut = newSut(0);
    await visit(sut, 1);
    commit('repo-a');
    expect((await visit(sut, 2)).via).toBe('cloned');
    expect(readdirSync(path.join(base, 'work'))).not.toContain('mirrors');
  });

  it('a mirror left in a crashed run dir never comes back to the cache', async () => {
    const sut = newSut();
    await visit(sut, 1);
    const lease = await sut.obtain(visitOf(2), runDir(), new AbortController().signal);
    rmSync(lease.workDir, { recursive: true }); // what sweeping a dead run's dir does
    expect(mirrors()).toEqual([]);
    expect((await visit(sut, 3)).via).toBe('cloned');
  });
});

import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GitError, GitErrorCode, SafeCloner, UrlPolicy, type CloneRequest, type SafeClonerOptions } from '@archiver/git';
import {
  createFixtureRepos,
  fixtureBytes,
  fixtureGit,
  PACK_DAMAGES,
  startGitHttpServer,
  startHostileGitServer,
  type FixtureRepos,
  type HostileBehaviour,
  type HostileGitServerHandle,
  rejectionOf,
} from '@archiver/testing';

const LOOPBACK = ['127.0.0.0/8'];
const MiB = 1024 * 1024;

/**
 * Peak memory of every git process below this one, sampled until `work` settles: anonymous
 * resident memory (what RLIMIT_DATA bounds) and the whole RSS (plus git's code and libraries).
 */
async function peakGitRss<T>(
  work: Promise<T>,
): Promise<{ peakAnonBytes: number; peakBytes: number; samples: number; settled: PromiseSettledResult<T> }> {
  let done = false;
  const settledPromise = Promise.allSettled([work]).then(([result]) => {
    done = true;
    return result as PromiseSettledResult<T>;
  });
  let peakBytes = 0;
  let peakAnonBytes = 0;
  let samples = 0;
  while (!done) {
    for (const pid of await descendantsOf(process.pid)) {
      const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
      if (!/^Name:\s*git/m.test(status)) continue;
      const kib = (field: string): number => Number(new RegExp(`^${field}:\\s*(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
      peakBytes = Math.max(peakBytes, kib('VmRSS'));
      peakAnonBytes = Math.max(peakAnonBytes, kib('RssAnon'));
      samples++;
    }
    await Promise.race([settledPromise, new Promise((resolve) => setTimeout(resolve, 20))]);
  }
  return { peakAnonBytes, peakBytes, samples, settled: await settledPromise };
}

async function descendantsOf(root: number): Promise<number[]> {
  const parents = new Map<number, number>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (stat) parents.set(Number(entry), ppid);
  }
  const found: number[] = [];
  for (const pid of parents.keys()) {
    for (let p = parents.get(pid); p !== undefined && p > 1; p = parents.get(p)) {
      if (p === root) {
        found.push(pid);
        break;
      }
    }
  }
  return found;
}

// Servers that attack the clone: each must end in the class that tells the truth about it,
// within the clone's bounds, and leave nothing behind.
describe('cloning from hostile git servers', () => {
  let base: string;
  let repos: FixtureRepos;
  let counter = 0;
  const servers: HostileGitServerHandle[] = [];
  const target = (): string => path.join(base, 'clones', `clone-${++counter}`);
  const request = (url: string, overrides: Partial<CloneRequest> = {}): CloneRequest => ({
    url,
    dir: target(),
    deadlineMs: 30_000,
    maxBytes: 256 * MiB,
    ...overrides,
  });
  const cloner = (options: Partial<SafeClonerOptions> = {}): SafeCloner =>
    new SafeCloner({ policy: new UrlPolicy({ allowedHosts: LOOPBACK }), tempDir: path.join(base, 'tmp'), ...options });
  const hostile = async (behaviour: HostileBehaviour): Promise<HostileGitServerHandle> => {
    const server = await startHostileGitServer({ behaviour, root: repos.root });
    servers.push(server);
    return server;
  };

  beforeAll(async () => {
    base = await mkdtemp(path.join(tmpdir(), 'archiver-hostile-int-'));
    repos = await createFixtureRepos(base);
  });

  afterAll(async () => {
    for (const server of servers) await server.stop();
    if (base) await rm(base, { recursive: true, force: true });
  });

  describe('servers that stall', () => {
    it.each<[string, HostileBehaviour]>([
      ['accepts the connection and never answers', { kind: 'silent' }],
      ['answers the ref advertisement, then never answers git', { kind: 'stall-after-advertisement' }],
    ])('a server that %s ends TIMED_OUT at the deadline, not a retryable NETWORK error', async (_what, behaviour) => {
      const server = await hostile(behaviour);
      const dir = target();
      const deadlineMs = 3000;
      const startedAt = Date.now();
      const error = await rejectionOf(cloner().clone(request(server.url('multi'), { dir, deadlineMs })), GitError);
      const elapsed = Date.now() - startedAt;
      expect(error).toMatchObject({ code: GitErrorCode.TIMED_OUT, transient: false });
      expect(elapsed).toBeGreaterThanOrEqual(deadlineMs - 50);
      // Slack for a loaded machine (CI beside other stacks); a missed deadline would hang instead.
      expect(elapsed).toBeLessThan(deadlineMs + 5000);
      expect(server.requests).toBeGreaterThan(0);
      await expect(readdir(dir)).rejects.toMatchObject({ code: 'ENOENT' });
    });

    it('ends TIMED_OUT even when a per-request preflight bound is configured', async () => {
      const server = await hostile({ kind: 'silent' });
      const error = await rejectionOf(
        cloner({ preflightTimeoutMs: 500 }).clone(request(server.url('multi'), { deadlineMs: 5000 })),
        GitError,
      );
      expect(error).toMatchObject({ code: GitErrorCode.TIMED_OUT, transient: false });
      expect(error.message).toContain('did not answer within 500 ms');
    });
  });

  describe('servers that send a damaged pack', () => {
    it.each(PACK_DAMAGES.map((damage) => [damage]))('%s is a permanent CORRUPT_REPOSITORY failure', async (damage) => {
      const server = await hostile({ kind: 'corrupt-pack', damage });
      const dir = target();
      const error = await rejectionOf(cloner().clone(request(server.url('multi'), { dir })), GitError);
      expect(error).toMatchObject({ code: GitErrorCode.CORRUPT_REPOSITORY, transient: false });
      expect(error.message).toContain('damaged pack');
      expect(error.message).not.toMatch(/retry|later|will /i);
      await expect(readdir(dir)).rejects.toMatchObject({ code: 'ENOENT' });
    });

    it('the same server without the damage serves a clone that works (the damage is the only fault)', async () => {
      const server = await hostile({ kind: 'honest' });
      const result = await cloner().clone(request(server.url('multi')));
      expect(result.sizeBytes).toBeGreaterThan(0);
    });
  });

  describe('the memory cap and real repositories', () => {
    it.each([
      ['the default cap (1 GiB)', undefined],
      ['a cap smaller than the pack (64 MiB: packs are mapped from files, not allocated)', 64 * MiB],
    ])('under %s, a 70 MiB repository clones completely', async (_what, maxMemoryBytes) => {
      const bare = await largeFixture();
      const http = await startGitHttpServer({ root: path.dirname(bare), port: 0 });
      try {
        const result = await cloner({ maxMemoryBytes }).clone(request(http.url('large'), { maxBytes: 512 * MiB, deadlineMs: 120_000 }));
        const refs = async (gitDir: string): Promise<string> => (await fixtureGit(['for-each-ref'], gitDir)).toString('utf8');
        expect(await refs(result.gitDir)).toBe(await refs(bare));
        await fixtureGit(['fsck', '--no-dangling', '--connectivity-only'], result.gitDir);
        expect(result.sizeBytes).toBeGreaterThan(64 * MiB);
      } finally {
        await http.stop();
      }
    });
  });

  /** ~70 MiB of pack: incompressible blobs rewritten over a few commits, plus many small text files. */
  let large: Promise<string> | undefined;
  const largeFixture = (): Promise<string> =>
    (large ??= (async () => {
      const work = path.join(base, 'large-work');
      const bare = path.join(base, 'large-repos', 'large.git');
      await mkdir(path.join(work, 'src'), { recursive: true });
      await fixtureGit(['init', '--quiet', '--initial-branch=main', work], work);
      for (let commit = 0; commit < 7; commit++) {
        for (let i = 0; i < 10; i++) await writeFile(path.join(work, `blob-${i}.bin`), fixtureBytes(MiB, commit * 100 + i + 1));
        for (let i = 0; i < 300; i++)
          await writeFile(path.join(work, 'src', `f${i}.txt`), `commit ${commit} file ${i}\n`.repeat(1 + (i % 40)));
        await fixtureGit(['add', '--all'], work);
        await fixtureGit(['commit', '--quiet', '-m', `commit ${commit}`], work);
        await fixtureGit(['tag', `v${commit}`], work);
      }
      await fixtureGit(['clone', '--quiet', '--bare', work, bare], work);
      return bare;
    })());

  describe('servers that send endless refs', () => {
    it('an endless ref advertisement fails TOO_LARGE in the preflight, before git buffers it', async () => {
      const server = await hostile({ kind: 'endless-refs', where: 'info-refs' });
      const startedAt = Date.now();
      const error = await rejectionOf(cloner({ maxAdvertisementBytes: 8 * MiB }).clone(request(server.url('multi'))), GitError);
      expect(error).toMatchObject({ code: GitErrorCode.TOO_LARGE, transient: false });
      expect(error.message).toContain(`ref advertisement of ${server.baseUrl}/multi.git/info/refs is larger than ${8 * MiB} bytes`);
      expect(Date.now() - startedAt).toBeLessThan(10_000);
    });

    it.each<[string, HostileBehaviour, Partial<SafeClonerOptions>]>([
      ['in the v2 ls-refs answer the preflight never sees', { kind: 'endless-refs', where: 'ls-refs' }, {}],
      ['in the v0 advertisement git gets after a truthful one for the preflight', { kind: 'endless-refs', where: 'later-info-refs' }, {}],
    ])(
      'endless refs %s: git hits its memory cap, fails TOO_LARGE quickly, and never grows past the cap',
      async (_what, behaviour, extra) => {
        const server = await hostile(behaviour);
        const maxMemoryBytes = 192 * MiB;
        const dir = target();
        const startedAt = Date.now();
        const { peakAnonBytes, peakBytes, samples, settled } = await peakGitRss(
          cloner({ maxMemoryBytes, ...extra }).clone(request(server.url('multi'), { dir, deadlineMs: 60_000 })),
        );
        expect(settled.status).toBe('rejected');
        const error = (settled as PromiseRejectedResult).reason as GitError;
        expect(error).toBeInstanceOf(GitError);
        expect(error).toMatchObject({ code: GitErrorCode.TOO_LARGE, transient: false });
        expect(error.message).toContain(`needed more than ${maxMemoryBytes} bytes of memory`);
        expect(Date.now() - startedAt).toBeLessThan(30_000);
        expect(samples).toBeGreaterThan(0);
        expect(peakAnonBytes).toBeLessThanOrEqual(maxMemoryBytes);
        expect(peakBytes).toBeLessThanOrEqual(maxMemoryBytes + 32 * MiB);
        // It did stream far more than git could hold, so the cap is what stopped it.
        expect(server.bytesStreamed).toBeGreaterThan(maxMemoryBytes / 4);
        await expect(readdir(dir)).rejects.toMatchObject({ code: 'ENOENT' });
      },
    );
  });
});

import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm, stat, unlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Logger } from '@nestjs/common';
import { AppConfig, loadConfig, loadStackSettings } from '@archiver/config';
import { ArchiveRecord, ArchiveRepository, PrismaService } from '@archiver/database';
import { directorySize, SafeCloner, UrlPolicy } from '@archiver/git';
import { ObjectStoreRepository, SnapshotManifest } from '@archiver/storage';
import {
  ApiClient,
  AppProcess,
  completedVisit,
  createFixtureRepos,
  fixtureBytes,
  fixtureGit,
  GitHttpServerHandle,
  KeycloakTestClient,
  type ManifestWithFiles,
  readManifestWithFiles,
  startApp,
  startGitHttpServer,
  tearDown,
  waitFor,
} from '@archiver/testing';
import { MirrorCache } from '../../apps/worker/src/clone/mirror-cache';
import { CraftedRepository } from '../../libs/git/src/tree-crafter';

const MiB = 1024 * 1024;

// The worker's mirror cache on the real stack: a changed visit fetches into the mirror the last
// visit left, stores exactly what a cold visit stores, and a cache that is damaged, full or
// contended never changes what is stored — only how much is downloaded.
describe('the worker mirror cache end to end', () => {
  const config = loadConfig();
  const stack = loadStackSettings();
  const store = new ObjectStoreRepository(config.minio);
  const prisma = new PrismaService(config);
  const archives = new ArchiveRepository(prisma);
  const keycloak = KeycloakTestClient.fromEnvironment();
  const workDir = path.join(os.tmpdir(), `archiver-mirror-cache-${process.pid}`);
  const mirrorsDir = path.join(workDir, 'mirrors');
  const apps: AppProcess[] = [];
  let root: string;
  let scratch: string;
  let http: GitHttpServerHandle;
  let api: ApiClient;
  let repoCount = 0;

  /** A repository of its own: `multi` plus 2 MiB of incompressible history, so a full clone is costly. */
  const newRepository = async (): Promise<{ name: string; gitDir: string; url: string }> => {
    const name = `cached-${++repoCount}`;
    const gitDir = path.join(root, `${name}.git`);
    await fixtureGit(['clone', '--quiet', '--mirror', path.join(root, 'multi.git'), gitDir], root);
    await push(gitDir, 'history', 2 * MiB);
    return { name, gitDir, url: http.url(name) };
  };
  /** Upstream gains a commit on main (a small file), a branch, and loses a tag. */
  const push = async (gitDir: string, label: string, bytes = 4096): Promise<void> => {
    const repo = await CraftedRepository.init(gitDir);
    const main = (await repo.git(['rev-parse', 'refs/heads/main'])).toString('latin1').trim();
    // The tree of main, NUL-separated as git prints it (names may hold any byte), plus one file.
    const kept = (await repo.git(['ls-tree', '-z', main]))
      .toString('latin1')
      .split('\0')
      .filter((line) => line && !line.endsWith(`\t${label}.bin`));
    const blob = await repo.blob(fixtureBytes(bytes, repoCount * 7919 + label.length));
    const input = Buffer.from([...kept, `100644 blob ${blob}\t${label}.bin`].map((line) => `${line}\0`).join(''), 'latin1');
    const tree = (await repo.git(['mktree', '-z'], input)).toString('latin1').trim();
    const next = await repo.commit(tree, label, [main]);
    await repo.updateRefs([
      { name: 'refs/heads/main', sha: next },
      { name: `refs/heads/${label}`, sha: next },
    ]);
    await repo.git(['update-ref', '-d', 'refs/tags/v1.0']).catch(() => undefined);
  };
  const upstreamRefs = async (gitDir: string) =>
    (await fixtureGit(['for-each-ref', '--format=%(objectname) %(refname)'], gitDir)).toString('utf8');
  const manifestOf = (row: ArchiveRecord) => readManifestWithFiles(store, row.bucket!, row.prefix!);
  const manifestRefs = (manifest: SnapshotManifest) => (manifest.refs ?? []).map((r) => `${r.sha} ${r.name}\n`).join('');
  /** What a snapshot stores, independent of where: refs, commit and each file's path, mode, size and checksum. */
  const content = (manifest: ManifestWithFiles) => ({
    refs: manifest.refs,
    commit: manifest.commit,
    defaultBranch: manifest.defaultBranch,
    files: manifest.files.map((f) => ({ path: f.path, mode: f.mode, size: f.size, gitSha: f.gitSha })),
  });
  const visit = async (url: string) => {
    const { row } = await completedVisit(api, archives, url, 120_000);
    // The worker gives the mirror back after recording the completion (and updating latest/).
    await waitFor('the mirror to be given back', async () => ((await stat(mirrorOf(row)).catch(() => null)) ? true : undefined), 20_000);
    return { row, manifest: await manifestOf(row) };
  };
  const mirrorOf = (row: ArchiveRecord) => path.join(mirrorsDir, `${row.bucket}.git`);
  const packs = async (gitDir: string) => {
    const dir = path.join(gitDir, 'objects', 'pack');
    const names = (await readdir(dir)).filter((n) => n.endsWith('.pack'));
    return Promise.all(names.map(async (name) => ({ name, bytes: (await stat(path.join(dir, name))).size })));
  };
  const startWorkers = async (count: number, env: Record<string, string> = {}) => {
    for (let i = 0; i < count; i++) apps.push(await startApp('worker', { ARCHIVER_WORK_DIR: workDir, ...env }));
  };
  const stopWorkers = async () => {
    for (const app of apps.filter((a) => a.name === 'worker')) {
      await app.stop();
      apps.splice(apps.indexOf(app), 1);
    }
  };

  beforeAll(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'archiver-mirror-cache-fixtures-'));
    root = (await createFixtureRepos(scratch)).root;
    http = await startGitHttpServer({ root });
    const frontend = await startApp('frontend');
    apps.push(frontend, await startApp('injector'));
    await startWorkers(1);
    api = new ApiClient(frontend.url, await keycloak.passwordToken(stack.demo.username, stack.demo.password));
  });

  afterAll(() =>
    tearDown({ apps, close: [() => store.close(), () => prisma.$disconnect(), () => http?.stop()], dirs: [scratch, workDir] }),
  );

  it('a changed visit with a warm cache fetches only the new objects and stores exactly what a cold visit stores', async () => {
    const warm = await newRepository();
    const first = await visit(warm.url);
    const cloned = await packs(mirrorOf(first.row));
    expect(cloned).toHaveLength(1);

    await push(warm.gitDir, 'second');
    const logBefore = http.requestLog.length;
    const second = await visit(warm.url);
    expect(second.row.outcome).toBe('changed');
    const after = await packs(mirrorOf(second.row));
    const fetched = after.filter((p) => !cloned.some((c) => c.name === p.name));
    // One small pack for one small commit, where the cold clone took the whole 2 MiB history.
    expect(fetched).toHaveLength(1);
    expect(fetched[0]!.bytes).toBeLessThan(cloned[0]!.bytes / 20);
    expect(http.requestLog.slice(logBefore).filter((r) => r.path.startsWith(`/${warm.name}.git/`)).length).toBeGreaterThan(0);
    expect(manifestRefs(second.manifest)).toBe(await upstreamRefs(warm.gitDir));

    // A cold visit of the very same state (a copy elsewhere: another repository, no mirror yet).
    const cold = path.join(root, `${warm.name}-cold.git`);
    await fixtureGit(['clone', '--quiet', '--mirror', warm.gitDir, cold], root);
    const coldVisit = await visit(http.url(`${warm.name}-cold`));
    expect(await packs(mirrorOf(coldVisit.row))).toHaveLength(1);
    expect(content(second.manifest)).toEqual(content(coldVisit.manifest));
    expect(second.manifest.fileCount).toBe(coldVisit.manifest.fileCount);
  });

  it.each<[string, (mirror: string) => Promise<void>]>([
    [
      'an object file was deleted',
      async (mirror) => {
        for (const { name } of await packs(mirror)) await unlink(path.join(mirror, 'objects', 'pack', name));
      },
    ],
    ['a ref was moved', async (mirror) => void (await fixtureGit(['update-ref', 'refs/heads/main', 'refs/heads/main~1'], mirror))],
  ])('a cache whose %s falls back to a full clone with a correct result', async (_what, corrupt) => {
    const repo = await newRepository();
    const first = await visit(repo.url);
    await corrupt(mirrorOf(first.row));
    await push(repo.gitDir, 'after-damage');

    const second = await visit(repo.url);
    expect(second.row.outcome).toBe('changed');
    expect(manifestRefs(second.manifest)).toBe(await upstreamRefs(repo.gitDir));
    // A fresh clone: one pack, with every object; a fetch into the damaged mirror would have added one.
    const mirror = mirrorOf(second.row);
    expect(await packs(mirror)).toHaveLength(1);
    await fixtureGit(['fsck', '--no-progress'], mirror);
    expect(await upstreamRefs(mirror)).toBe(await upstreamRefs(repo.gitDir));
    const worker = apps.find((a) => a.name === 'worker')!;
    expect(worker.output()).toMatch(/cached mirror discarded; cloning in full/);
  });

  it('eviction keeps the cache under its cap, dropping the least recently used mirror', async () => {
    const probe = await newRepository();
    const probed = await visit(probe.url);
    const oneMirror = await directorySize(mirrorOf(probed.row));
    await stopWorkers();
    await rm(mirrorsDir, { recursive: true, force: true });
    const capBytes = Math.floor(oneMirror * 2.5);
    await startWorkers(1, { WORKER_MIRROR_CACHE_BYTES: String(capBytes) });
    try {
      const repos = [await newRepository(), await newRepository(), await newRepository()];
      const rows: ArchiveRecord[] = [];
      for (const repo of repos) rows.push((await visit(repo.url)).row);
      const kept = (await readdir(mirrorsDir)).sort();
      expect(kept).toEqual([`${rows[1]!.bucket}.git`, `${rows[2]!.bucket}.git`].sort());
      expect(await directorySize(mirrorsDir)).toBeLessThanOrEqual(capBytes);
    } finally {
      await stopWorkers();
      await startWorkers(1);
    }
  });

  it('two worker processes on one disk serve many visits, each mirror used by one run at a time, all results exact', async () => {
    await startWorkers(1); // a second process with the same work dir
    const repos = [await newRepository(), await newRepository(), await newRepository()];
    for (let round = 0; round < 3; round++) {
      if (round > 0) await Promise.all(repos.map((repo) => push(repo.gitDir, `round-${round}`)));
      const visits = await Promise.all(repos.map((repo) => visit(repo.url)));
      for (const [i, { manifest }] of visits.entries()) expect(manifestRefs(manifest)).toBe(await upstreamRefs(repos[i]!.gitDir));
    }
    const hits = apps.filter((a) => a.name === 'worker').map((a) => (a.output().match(/mirror cache hit/g) ?? []).length);
    expect(hits.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(repos.length * 2);
    // What is left is one sound mirror per repository, each exactly the remote.
    for (const repo of repos) {
      const [{ row }] = [await visit(repo.url)];
      expect(row.outcome).toBe('unchanged');
      await fixtureGit(['fsck', '--connectivity-only', '--no-progress'], mirrorOf(row));
      expect(await upstreamRefs(mirrorOf(row))).toBe(await upstreamRefs(repo.gitDir));
    }
  });

  it('two caches on one disk obtaining the same repository at once never share its mirror', async () => {
    Logger.overrideLogger(false);
    const repo = await newRepository();
    const { row } = await visit(repo.url);
    await push(repo.gitDir, 'contended');
    const cacheConfig: AppConfig = { ...config, clone: { ...config.clone, workDir } };
    const cache = () =>
      new MirrorCache(
        cacheConfig,
        new SafeCloner({ policy: new UrlPolicy({ allowedHosts: config.clone.allowedHosts }), tempDir: workDir }),
        archives,
        store,
      );
    const visitOf = { id: randomUUID(), repositoryId: row.repositoryId!, url: repo.url, bucket: row.bucket! };
    const runDirs = await Promise.all([0, 1].map(() => mkdtemp(path.join(scratch, 'run-'))));
    const signal = new AbortController().signal;
    const leases = await Promise.all(runDirs.map((dir) => cache().obtain(visitOf, dir, signal)));
    expect(leases.map((l) => l.via).sort()).toEqual(['cloned', 'fetched']);
    expect(new Set(leases.map((l) => l.gitDir)).size).toBe(2);
    for (const lease of leases) expect(await upstreamRefs(lease.gitDir)).toBe(await upstreamRefs(repo.gitDir));
  });
});

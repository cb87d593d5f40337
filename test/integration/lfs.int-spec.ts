import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Queue } from 'bullmq';
import { loadConfig } from '@archiver/config';
import { PrismaService } from '@archiver/database';
import { QueueName, redisOptions } from '@archiver/queue';
import { lfsObjectKey, ObjectStoreRepository, readSnapshotManifest, type SnapshotLfs } from '@archiver/storage';
import {
  ApiClient,
  type AppProcess,
  type ArchiveView,
  closeAll,
  commitLfsFiles,
  fixtureBytes,
  fixtureGit,
  type GiteaClient,
  type GiteaToken,
  type GiteaUser,
  type GitHttpServerHandle,
  gitWithAuth,
  KeycloakTestClient,
  lfsObjectIdOf,
  readAll,
  RecordingApiClient,
  removeRepositoriesUnder,
  SecretLeakWatch,
  settledArchive,
  startApp,
  startGitea,
  startGitHttpServer,
  tearDown,
  uniqueName,
  uploadLfsObjects,
  waitFor,
} from '@archiver/testing';

const run = promisify(execFile);

interface RepositoryView {
  id: string;
  visits?: { items: ArchiveView[] };
}
type LfsArchiveView = ArchiveView & {
  lfs?: { objects: number; bytes: number; missing: { path: string; oid: string; reason: { code: string; message: string } }[] } | null;
};
interface TreeView {
  entries: { name: string; type: string; size?: number; lfs?: true; lfsStatus?: string; lfsMissing?: { code: string } }[];
}

/** Binary bytes with NULs and high bytes, reproducible. */
const binary = (length: number, seed: number) => {
  const bytes = fixtureBytes(length, seed);
  bytes[0] = 0;
  bytes[1] = 0xff;
  return bytes;
};

/**
 * A hostile LFS server for one repository: its batch answer sends one object to an address the
 * policy blocks (127.0.0.2, not allowlisted for this worker), and serves the others with bytes
 * that do not match their oid or their size. The trap on 127.0.0.2 counts every connection.
 */
async function startHostileLfs(objects: { wrongBytes: Buffer; tooLong: Buffer; blocked: Buffer }) {
  const trap: Server = createServer((_req, res) => res.end('trapped'));
  let trapped = 0;
  trap.on('connection', () => trapped++);
  await new Promise<void>((resolve) => trap.listen(0, '127.0.0.2', resolve));
  const trapPort = (trap.address() as { port: number }).port;
  const ids = { wrong: lfsObjectIdOf(objects.wrongBytes), long: lfsObjectIdOf(objects.tooLong), blocked: lfsObjectIdOf(objects.blocked) };
  const server: Server = createServer((req, res) => {
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    if (req.method === 'POST' && req.url === '/lfs/objects/batch') {
      req.resume();
      const href = (oid: string) => ({ download: { href: `${base}/bytes/${oid}`, header: { 'X-Hostile': '1' } } });
      res.writeHead(200, { 'content-type': 'application/vnd.git-lfs+json' });
      res.end(
        JSON.stringify({
          transfer: 'basic',
          objects: [
            { ...ids.wrong, actions: href(ids.wrong.oid) },
            { ...ids.long, actions: href(ids.long.oid) },
            { ...ids.blocked, actions: { download: { href: `http://127.0.0.2:${trapPort}/steal` } } },
          ],
        }),
      );
      return;
    }
    if (req.url === `/bytes/${ids.wrong.oid}`) return res.end(Buffer.alloc(ids.wrong.size, 0x41));
    if (req.url === `/bytes/${ids.long.oid}`) return res.end(Buffer.concat([objects.tooLong, Buffer.from('extra')]));
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/lfs`,
    ids,
    trapped: () => trapped,
    close: () => closeAll(new Promise<void>((r) => server.close(() => r())), new Promise<void>((r) => trap.close(() => r()))),
  };
}

// Git LFS content on the real Gitea forge, through the real apps: objects fetched with the
// repository's token through the URL policy, stored once by oid, served by files/, restorable
// with git-lfs; missing, hostile and oversized cases reported as the brief says.
describe('Git LFS content of a private Gitea repository', () => {
  const config = loadConfig();
  const prisma = new PrismaService(config);
  const store = new ObjectStoreRepository(config.minio);
  const connection = redisOptions(config.redis.url, 'producer');
  const queues = [new Queue(QueueName.Pending, { connection }), new Queue(QueueName.Archive, { connection })];
  const keycloak = KeycloakTestClient.fromEnvironment();
  const workDir = path.join(os.tmpdir(), `archiver-lfs-${process.pid}`);
  // Loopback, but not 127.0.0.2: the hostile peer's trap must be refused by policy.
  const allowed = { ARCHIVER_ALLOWED_HOSTS: '127.0.0.1,::1,localhost' };
  const apps: AppProcess[] = [];
  /** Apps stopped before the end, whose logs are still searched for secrets. */
  const retired: AppProcess[] = [];
  /** What the suite's secrets could leak into: API answers and command lines, collected as it runs. */
  const watch = new SecretLeakWatch({ prisma, store, workDir });
  const { answers, commandLines } = watch;
  let scratch: string;
  let gitea: GiteaClient;
  let giteaUrl: string;
  let owner: GiteaUser;
  let token: GiteaToken;
  let api: ApiClient;
  let gitServer: GitHttpServerHandle | undefined;

  const files = {
    binary: { path: 'assets/blob.bin', bytes: binary(4096, 11) },
    large: { path: 'big/large.dat', bytes: binary(1_500_000, 12) },
    unicode: { path: 'dir with space/na\u00efve \u00fcn\u00efc\u00f6de \u2713.png', bytes: binary(2048, 13) },
    again: { path: 'copy/same-as-blob.bin', bytes: binary(4096, 11) },
  };
  const readme = { path: 'README.md', bytes: Buffer.from('# LFS fixture\n') };
  const attributes = {
    path: '.gitattributes',
    bytes: Buffer.from(
      '*.bin filter=lfs diff=lfs merge=lfs -text\n*.dat filter=lfs diff=lfs merge=lfs -text\n*.png filter=lfs diff=lfs merge=lfs -text\n',
    ),
  };

  /** Gitea's LFS API takes a token as the basic-auth password, not as `Authorization: token`. */
  const lfsAuth = () => ({ username: owner.username, password: token.token });
  const newWorkTree = async () => {
    const dir = await mkdtemp(path.join(scratch, 'work-'));
    await fixtureGit(['init', '--quiet', '--initial-branch=main'], dir);
    return dir;
  };
  const push = (workTree: string, cloneUrl: string) =>
    gitWithAuth(['push', '--quiet', cloneUrl, '+refs/heads/*:refs/heads/*'], workTree, { token: token.token });
  const track = async (cloneUrl: string): Promise<RepositoryView> => {
    const tracked = await api.call<RepositoryView>('POST', '/api/repositories', {
      json: { url: cloneUrl, credential: { kind: 'token', token: token.token } },
    });
    expect(tracked.status).toBe(201);
    return tracked.body;
  };
  const firstVisit = async (repositoryId: string): Promise<LfsArchiveView> => {
    const detail = await api.call<RepositoryView>('GET', `/api/repositories/${repositoryId}`);
    return commandLines.during(settledArchive(api, detail.body.visits!.items.at(-1)!.id, 120_000));
  };
  const nextVisit = async (repositoryId: string): Promise<LfsArchiveView> => {
    const asked = await waitFor('a visit accepted', async () => {
      const answer = await api.call<ArchiveView>('POST', `/api/repositories/${repositoryId}/visits`);
      return answer.status === 429 ? undefined : answer;
    });
    expect(asked.status).toBe(202);
    return commandLines.during(settledArchive(api, asked.body.id, 120_000));
  };
  const manifestLfs = async (done: ArchiveView): Promise<SnapshotLfs> =>
    (await readSnapshotManifest(store, done.bucket!, done.prefix!)).lfs!;
  const fileOf = (done: ArchiveView, filePath: string) =>
    fetchBytes(`/api/archives/${done.id}/files/${filePath.split('/').map(encodeURIComponent).join('/')}`);
  const fetchBytes = async (route: string) => {
    const raw = await fetch(`${apps[0].url}${route}`, {
      headers: { authorization: `Bearer ${await keycloakToken()}` },
      signal: AbortSignal.timeout(20_000),
    });
    expect({ route, status: raw.status }).toEqual({ route, status: 200 });
    return { bytes: Buffer.from(await raw.arrayBuffer()), headers: raw.headers };
  };
  let keycloakToken: () => Promise<string>;

  beforeAll(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'archiver-lfs-fixtures-'));
    const forge = await startGitea();
    gitea = forge.client;
    giteaUrl = forge.url;
    owner = await gitea.createUser(uniqueName('lfs'));
    token = await gitea.createToken(owner, uniqueName('archiver'));
    const started = await Promise.all([
      startApp('frontend', { REPOSITORY_VISIT_COOLDOWN_SECONDS: '1', ...allowed }),
      startApp('injector', allowed),
      startApp('worker', { ARCHIVER_WORK_DIR: workDir, CLONE_TIMEOUT_SECONDS: '60', LFS_OBJECT_TIMEOUT_SECONDS: '20', ...allowed }),
    ]);
    apps.push(...started);
    const user = await keycloak.createUser({ username: uniqueName('lfs'), realmRoles: ['archiver-user'] });
    keycloakToken = () => keycloak.passwordToken(user.username, user.password);
    api = new RecordingApiClient(started[0].url, keycloakToken, answers);
  });

  afterAll(() =>
    tearDown({
      apps,
      cleanUp: async () => {
        if (owner) await removeRepositoriesUnder(`${giteaUrl}/${owner.username}/`, { prisma, store, queues });
        if (gitServer) await removeRepositoriesUnder(`${gitServer.baseUrl}/`, { prisma, store, queues });
      },
      close: [
        () => store.close(),
        ...queues.map((q) => () => q.close()),
        () => keycloak.cleanup(),
        () => prisma.$disconnect(),
        () => gitServer?.stop(),
      ],
      dirs: [scratch, workDir],
    }),
  );

  it('stores each LFS object once by oid, serves the real bytes, restores them, and fetches only what is new next visit', async () => {
    const repo = await gitea.createRepo(owner.username, uniqueName('lfs'), { private: true });
    const tree = await newWorkTree();
    await commitLfsFiles(tree, { lfs: Object.values(files), plain: [readme, attributes] }, 'LFS files');
    await push(tree, repo.cloneUrl);
    await uploadLfsObjects(repo.cloneUrl, lfsAuth(), [files.binary.bytes, files.large.bytes, files.unicode.bytes]);

    const tracked = await track(repo.cloneUrl);
    const done = await firstVisit(tracked.id);
    expect(done).toMatchObject({ status: 'completed', error: null });
    const distinct = [files.binary, files.large, files.unicode];
    const bytes = distinct.reduce((sum, f) => sum + f.bytes.length, 0);
    expect(done.lfs).toEqual({ objects: 3, bytes, missing: [] });

    // Stored once each, under its oid, byte for byte.
    const lfs = await manifestLfs(done);
    expect(lfs).toMatchObject({ objectCount: 3, byteCount: bytes, missingCount: 0, uploadedCount: 3 });
    expect(lfs.entries.map((e) => e.path).sort()).toEqual(
      Object.values(files)
        .map((f) => f.path)
        .sort(),
    );
    const stored = await store.listAllObjects(done.bucket!, 'lfs/');
    expect(stored.map((o) => o.name).sort()).toEqual(distinct.map((f) => lfsObjectKey(lfsObjectIdOf(f.bytes).oid)).sort());
    for (const file of distinct) {
      expect((await readAll(await store.getObject(done.bucket!, lfsObjectKey(lfsObjectIdOf(file.bytes).oid)))).equals(file.bytes)).toBe(
        true,
      );
    }

    // files/ serves the real content; the tree shows the real size and that it is LFS.
    for (const file of Object.values(files)) {
      const served = await fileOf(done, file.path);
      expect({ path: file.path, equal: served.bytes.equals(file.bytes), lfs: served.headers.get('x-archiver-lfs') }).toEqual({
        path: file.path,
        equal: true,
        lfs: 'stored',
      });
    }
    expect((await fileOf(done, files.unicode.path)).headers.get('content-type')).toMatch(/^image\/png/);
    const listing = await api.call<TreeView>('GET', `/api/archives/${done.id}/tree?path=big`);
    expect(listing.body.entries).toEqual([
      expect.objectContaining({ name: 'large.dat', size: files.large.bytes.length, lfs: true, lfsStatus: 'stored' }),
    ]);

    // The restore script rebuilds a bare repository that git-lfs checks out with the real bytes.
    const plan = await api.call<{ script: string; lfsObjects: { oid: string }[] }>('GET', `/api/archives/${done.id}/restore`);
    expect(plan.body.lfsObjects).toHaveLength(3);
    const restoreDir = await mkdtemp(path.join(scratch, 'restore-'));
    await writeFile(path.join(restoreDir, 'restore.sh'), plan.body.script);
    const env = { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: restoreDir, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' };
    await run('sh', ['restore.sh', 'restored.git'], { cwd: restoreDir, env, timeout: 60_000 });
    const lfsFilters = [
      '-c',
      'filter.lfs.process=git-lfs filter-process',
      '-c',
      'filter.lfs.smudge=git-lfs smudge -- %f',
      '-c',
      'filter.lfs.clean=git-lfs clean -- %f',
      '-c',
      'filter.lfs.required=true',
    ];
    await run('git', ['clone', '--quiet', ...lfsFilters, `file://${path.join(restoreDir, 'restored.git')}`, 'checkout'], {
      cwd: restoreDir,
      env,
      timeout: 60_000,
    });
    for (const file of Object.values(files)) {
      const checkedOut = await readFile(path.join(restoreDir, 'checkout', file.path));
      expect({ path: file.path, equal: checkedOut.equals(file.bytes) }).toEqual({ path: file.path, equal: true });
    }

    // A second visit after one more LFS file uploads exactly that object.
    const added = { path: 'assets/added.bin', bytes: binary(8192, 14) };
    await commitLfsFiles(tree, { lfs: [added] }, 'one more');
    await push(tree, repo.cloneUrl);
    await uploadLfsObjects(repo.cloneUrl, lfsAuth(), [added.bytes]);
    const second = await nextVisit(tracked.id);
    expect(second).toMatchObject({ status: 'completed', error: null });
    expect(await manifestLfs(second)).toMatchObject({ objectCount: 4, uploadedCount: 1, missingCount: 0 });
    expect((await store.listAllObjects(done.bucket!, 'lfs/')).map((o) => o.name)).toContain(lfsObjectKey(lfsObjectIdOf(added.bytes).oid));
    expect((await fileOf(second, added.path)).bytes.equals(added.bytes)).toBe(true);
  });

  it('completes with an object the server does not have reported missing, and serves its pointer marked missing', async () => {
    const repo = await gitea.createRepo(owner.username, uniqueName('lfs-missing'), { private: true });
    const present = { path: 'present.bin', bytes: binary(1000, 21) };
    const lateBytes = binary(3000, 22);
    const neverUploaded = lfsObjectIdOf(lateBytes);
    const tree = await newWorkTree();
    await commitLfsFiles(tree, { lfs: [present, { path: 'gone/never.bin', pointerOf: neverUploaded }], plain: [readme] }, 'one missing');
    await push(tree, repo.cloneUrl);
    await uploadLfsObjects(repo.cloneUrl, lfsAuth(), [present.bytes]);

    const tracked = await track(repo.cloneUrl);
    const done = await firstVisit(tracked.id);
    expect(done).toMatchObject({ status: 'completed', error: null });
    expect(done.lfs).toEqual({
      objects: 1,
      bytes: present.bytes.length,
      missing: [{ path: 'gone/never.bin', oid: neverUploaded.oid, reason: { code: 'LFS_NOT_ON_SERVER', message: expect.any(String) } }],
    });
    const lfs = await manifestLfs(done);
    expect(lfs.entries.find((e) => e.path === 'gone/never.bin')).toMatchObject({
      status: 'missing',
      missing: { code: 'LFS_NOT_ON_SERVER' },
    });
    const served = await fileOf(done, 'gone/never.bin');
    expect(served.headers.get('x-archiver-lfs')).toBe('missing');
    expect(served.headers.get('x-archiver-lfs-reason')).toBe('LFS_NOT_ON_SERVER');
    expect(served.bytes.toString()).toContain(`oid sha256:${neverUploaded.oid}`);
    const listing = await api.call<TreeView>('GET', `/api/archives/${done.id}/tree?path=gone`);
    expect(listing.body.entries[0]).toMatchObject({ lfs: true, lfsStatus: 'missing', lfsMissing: { code: 'LFS_NOT_ON_SERVER' } });

    // Once the object is on the server, the next visit fetches it although no ref moved.
    await uploadLfsObjects(repo.cloneUrl, lfsAuth(), [lateBytes]);
    const next = await nextVisit(tracked.id);
    expect(next).toMatchObject({ status: 'completed', outcome: 'changed' });
    expect(next.lfs).toEqual({ objects: 2, bytes: present.bytes.length + lateBytes.length, missing: [] });
    expect(await manifestLfs(next)).toMatchObject({ uploadedCount: 1 });
    expect((await fileOf(next, 'gone/never.bin')).bytes.equals(lateBytes)).toBe(true);
  });

  it('refuses an href the policy blocks and never stores bytes that do not match their oid or size', async () => {
    const objects = { wrongBytes: binary(500, 31), tooLong: binary(600, 32), blocked: binary(700, 33) };
    const hostile = await startHostileLfs(objects);
    try {
      const root = await mkdtemp(path.join(scratch, 'served-'));
      const tree = await newWorkTree();
      await commitLfsFiles(
        tree,
        {
          lfs: [
            { path: 'wrong.bin', bytes: objects.wrongBytes },
            { path: 'long.bin', bytes: objects.tooLong },
            { path: 'blocked.bin', bytes: objects.blocked },
          ],
          plain: [{ path: '.lfsconfig', bytes: Buffer.from(`[lfs]\n\turl = ${hostile.url}\n`) }],
        },
        'hostile lfs',
      );
      await fixtureGit(['clone', '--quiet', '--bare', tree, path.join(root, 'hostile.git')], scratch);
      gitServer = await startGitHttpServer({ root });
      const archive = await api.submit(gitServer.url('hostile'));
      const done = (await commandLines.during(settledArchive(api, archive.id, 120_000))) as LfsArchiveView;
      expect(done).toMatchObject({ status: 'completed', error: null });
      const reasons = Object.fromEntries((done.lfs?.missing ?? []).map((m) => [m.path, m.reason.code]));
      expect(reasons).toEqual({
        'wrong.bin': 'LFS_DIGEST_MISMATCH',
        'long.bin': 'LFS_SIZE_MISMATCH',
        'blocked.bin': 'LFS_BLOCKED_BY_POLICY',
      });
      expect(done.lfs?.objects).toBe(0);
      expect(await store.listAllObjects(done.bucket!, 'lfs/')).toEqual([]);
      expect(hostile.trapped()).toBe(0);
    } finally {
      await hostile.close();
    }
  });

  it('counts LFS bytes toward the size cap: a repository whose objects exceed it fails TOO_LARGE', async () => {
    const repo = await gitea.createRepo(owner.username, uniqueName('lfs-cap'), { private: true });
    const big = { path: 'huge.bin', bytes: binary(3_000_000, 41) };
    const tree = await newWorkTree();
    await commitLfsFiles(tree, { lfs: [big], plain: [readme] }, 'big');
    await push(tree, repo.cloneUrl);
    await uploadLfsObjects(repo.cloneUrl, lfsAuth(), [big.bytes]);

    const worker = apps.pop()!;
    await worker.stop();
    retired.push(worker);
    apps.push(await startApp('worker', { ARCHIVER_WORK_DIR: workDir, CLONE_MAX_BYTES: '2000000', ...allowed }));
    const done = await firstVisit((await track(repo.cloneUrl)).id);
    expect(done).toMatchObject({ status: 'failed', error: { code: 'TOO_LARGE' } });
    expect(done.error!.message).toMatch(/LFS/);
  });

  it('never lets the token out during LFS fetches: not in logs, API answers, command lines, the database, the buckets or left-over files', async () => {
    const secrets = [token.token, Buffer.from(`x-access-token:${token.token}`).toString('base64')];
    const { found, searched } = await watch.search({ secrets, apps: [...apps, ...retired], normalizedUrlLike: `%/${owner.username}/%` });
    expect(searched.buckets).toBeGreaterThan(0);
    expect(found).toEqual([]);
    expect(searched.commandLines).toBeGreaterThan(0);
  });
});

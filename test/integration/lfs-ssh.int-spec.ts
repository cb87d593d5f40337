import { createHash } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { loadConfig } from '@archiver/config';
import { PrismaService } from '@archiver/database';
import { normalizeRepositoryUrl } from '@archiver/git';
import { QueueName, redisOptions } from '@archiver/queue';
import { lfsObjectKey, ObjectStoreRepository, readSnapshotManifest } from '@archiver/storage';
import {
  ApiClient,
  type AppProcess,
  type ArchiveView,
  commitLfsFiles,
  fixtureBytes,
  fixtureGit,
  generateSshKeyPair,
  type GiteaClient,
  type GiteaRepo,
  type GiteaToken,
  type GiteaUser,
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
  tearDown,
  uniqueName,
  uploadLfsObjects,
} from '@archiver/testing';

interface RepositoryView {
  id: string;
  visits?: { items: ArchiveView[] };
}
type LfsArchiveView = ArchiveView & {
  lfs?: { objects: number; bytes: number; missing: { path: string; oid: string; reason: { code: string; message: string } }[] } | null;
};

/** Binary bytes with NULs and high bytes, reproducible. */
const binary = (length: number, seed: number) => {
  const bytes = fixtureBytes(length, seed);
  bytes[0] = 0;
  bytes[1] = 0xff;
  return bytes;
};
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

// Git LFS content of repositories archived by their SSH URL on the real Gitea (built-in SSH
// server, LFS server), through the real apps: the worker asks git-lfs-authenticate over the
// clone's own ssh with the deploy key, then fetches from the href it names with the header it
// gave; an href the worker's URL policy refuses leaves the objects missing, the visit completed.
describe('Git LFS content of repositories archived over SSH', () => {
  const config = loadConfig();
  const prisma = new PrismaService(config);
  const store = new ObjectStoreRepository(config.minio);
  const connection = redisOptions(config.redis.url, 'producer');
  const queues = [new Queue(QueueName.Pending, { connection }), new Queue(QueueName.Archive, { connection })];
  const keycloak = KeycloakTestClient.fromEnvironment();
  const workDir = path.join(os.tmpdir(), `archiver-lfs-ssh-${process.pid}`);
  const allowed = { ARCHIVER_ALLOWED_HOSTS: '127.0.0.1,::1,localhost' };
  const apps: AppProcess[] = [];
  const retired: AppProcess[] = [];
  /** What the keys and LFS tokens could leak into: API answers and command lines, collected as the suite runs. */
  const watch = new SecretLeakWatch({ prisma, store, workDir });
  const privateKeys: string[] = [];
  let scratch: string;
  let gitea: GiteaClient;
  let owner: GiteaUser;
  let token: GiteaToken;
  let api: ApiClient;
  const sshPrefixes = new Set<string>();

  const files = {
    binary: { path: 'assets/blob.bin', bytes: binary(4096, 51) },
    large: { path: 'big/large.dat', bytes: binary(1_200_000, 52) },
    unicode: { path: 'dir with space/na\u00efve \u2713.bin', bytes: binary(2048, 53) },
    again: { path: 'copy/same-as-blob.bin', bytes: binary(4096, 51) },
  };
  const distinct = [files.binary, files.large, files.unicode];
  const plain = [
    { path: 'README.md', bytes: Buffer.from('# LFS over SSH\n') },
    {
      path: '.gitattributes',
      bytes: Buffer.from('*.bin filter=lfs diff=lfs merge=lfs -text\n*.dat filter=lfs diff=lfs merge=lfs -text\n'),
    },
  ];

  /** A private repository with LFS pointers pushed and their objects uploaded over HTTP, and a read-only deploy key. */
  const lfsRepoWithDeployKey = async (): Promise<{ repo: GiteaRepo; privateKey: string }> => {
    const repo = await gitea.createRepo(owner.username, uniqueName('lfs-ssh'), { private: true });
    const tree = await mkdtemp(path.join(scratch, 'work-'));
    await fixtureGit(['init', '--quiet', '--initial-branch=main'], tree);
    await commitLfsFiles(tree, { lfs: Object.values(files), plain }, 'LFS files');
    await gitWithAuth(['push', '--quiet', repo.cloneUrl, '+refs/heads/*:refs/heads/*'], tree, { token: token.token });
    await uploadLfsObjects(
      repo.cloneUrl,
      { username: owner.username, password: token.token },
      distinct.map((f) => f.bytes),
    );
    const { privateKey, publicKey } = await generateSshKeyPair(await mkdtemp(path.join(scratch, 'key-')));
    privateKeys.push(privateKey);
    await gitea.addDeployKey(repo, uniqueName('archiver'), publicKey);
    return { repo, privateKey };
  };
  const archiveOverSsh = async (url: string, privateKey: string): Promise<LfsArchiveView> => {
    const normalized = normalizeRepositoryUrl(url).normalizedUrl;
    sshPrefixes.add(normalized.slice(0, normalized.lastIndexOf('/') + 1));
    const tracked = await api.call<RepositoryView>('POST', '/api/repositories', { json: { url, credential: { kind: 'ssh', privateKey } } });
    expect(tracked.status).toBe(201);
    const detail = await api.call<RepositoryView>('GET', `/api/repositories/${tracked.body.id}`);
    return watch.commandLines.during(settledArchive(api, detail.body.visits!.items.at(-1)!.id, 120_000));
  };

  beforeAll(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'archiver-lfs-ssh-fixtures-'));
    gitea = (await startGitea()).client;
    owner = await gitea.createUser(uniqueName('lfsssh'));
    token = await gitea.createToken(owner, uniqueName('push'));
    const started = await Promise.all([
      startApp('frontend', allowed),
      startApp('injector', allowed),
      startApp('worker', { ARCHIVER_WORK_DIR: workDir, CLONE_TIMEOUT_SECONDS: '60', LFS_OBJECT_TIMEOUT_SECONDS: '30', ...allowed }),
    ]);
    apps.push(...started);
    const user = await keycloak.createUser({ username: uniqueName('lfsssh'), realmRoles: ['archiver-user'] });
    api = new RecordingApiClient(started[0].url, () => keycloak.passwordToken(user.username, user.password), watch.answers);
  });

  afterAll(() =>
    tearDown({
      apps,
      cleanUp: async () => {
        for (const prefix of sshPrefixes) await removeRepositoriesUnder(prefix, { prisma, store, queues });
      },
      close: [() => store.close(), ...queues.map((q) => () => q.close()), () => keycloak.cleanup(), () => prisma.$disconnect()],
      dirs: [scratch, workDir],
    }),
  );

  it('stores every LFS object of a repository archived by its SSH URL with a deploy key, exact bytes under lfs/<oid[0:2]>/<oid>', async () => {
    const { repo, privateKey } = await lfsRepoWithDeployKey();
    expect(repo.sshUrl).toMatch(/^ssh:\/\/[^@]+@127\.0\.0\.1:\d+\//);
    const done = await archiveOverSsh(repo.sshUrl, privateKey);
    expect(done).toMatchObject({ status: 'completed', error: null });
    const bytes = distinct.reduce((sum, f) => sum + f.bytes.length, 0);
    expect(done.lfs).toEqual({ objects: 3, bytes, missing: [] });

    const lfs = (await readSnapshotManifest(store, done.bucket!, done.prefix!)).lfs!;
    expect(lfs).toMatchObject({ objectCount: 3, byteCount: bytes, missingCount: 0, uploadedCount: 3 });
    expect(lfs.entries.map((e) => [e.path, e.status]).sort()).toEqual(
      Object.values(files)
        .map((f) => [f.path, 'stored'])
        .sort(),
    );
    const stored = await store.listAllObjects(done.bucket!, 'lfs/');
    const oids = distinct.map((f) => lfsObjectIdOf(f.bytes).oid);
    expect(stored.map((o) => o.name).sort()).toEqual(oids.map((oid) => `lfs/${oid.slice(0, 2)}/${oid}`).sort());
    for (const file of distinct) {
      const { oid } = lfsObjectIdOf(file.bytes);
      const kept = await readAll(await store.getObject(done.bucket!, lfsObjectKey(oid)));
      expect({ path: file.path, sha256: sha256(kept), equal: kept.equals(file.bytes) }).toEqual({
        path: file.path,
        sha256: oid,
        equal: true,
      });
    }
  });

  it('records every object missing, and completes, when git-lfs-authenticate names an LFS server the worker may not reach', async () => {
    // This worker may reach the forge's SSH server by the name "localhost", but not 127.0.0.1,
    // which is where the forge's git-lfs-authenticate sends it: the href must pass the policy.
    const worker = apps.pop()!;
    await worker.stop();
    retired.push(worker);
    apps.push(await startApp('worker', { ARCHIVER_WORK_DIR: workDir, CLONE_TIMEOUT_SECONDS: '60', ARCHIVER_ALLOWED_HOSTS: 'localhost' }));
    const { repo, privateKey } = await lfsRepoWithDeployKey();
    const done = await archiveOverSsh(repo.sshUrl.replace('@127.0.0.1:', '@localhost:'), privateKey);
    expect(done).toMatchObject({ status: 'completed', error: null });
    expect(done.lfs?.objects).toBe(0);
    expect(done.lfs?.missing.map((m) => [m.path, m.reason.code]).sort()).toEqual(
      Object.values(files)
        .map((f) => [f.path, 'LFS_BLOCKED_BY_POLICY'])
        .sort(),
    );
    expect(done.lfs?.missing[0]!.reason.message).toMatch(/127\.0\.0\.1/);
    expect(await store.listAllObjects(done.bucket!, 'lfs/')).toEqual([]);
    // The snapshot itself is whole: the pointers are archived as files.
    const manifest = await readSnapshotManifest(store, done.bucket!, done.prefix!);
    expect(manifest.lfs).toMatchObject({ objectCount: 0, missingCount: 3 });
  });

  it('lets neither the deploy key nor the LFS token out: not in logs, command lines, API answers, the database in clear, the buckets or left-over files', async () => {
    const secrets = privateKeys.flatMap((key) => [key, key.split('\n')[2]!]).filter((s) => s.length > 20);
    expect(secrets.length).toBeGreaterThanOrEqual(2);
    const { found, searched } = await watch.search({
      secrets,
      // Gitea's LFS tokens are JWTs sent as "Authorization: Bearer eyJ…"; the test never holds one.
      shapes: [{ name: 'LFS token', pattern: /Bearer\s+eyJ/ }],
      apps: [...apps, ...retired],
      // Both tests' repositories, by either host name, belong to this suite's own forge user.
      normalizedUrlLike: `ssh://%/${owner.username}/%`,
    });
    expect(found).toEqual([]);
    expect(searched.rows).toBeGreaterThan(3);
    expect(searched.buckets).toBeGreaterThan(0);
    // The sampler did see the worker's hardened ssh invocation (ssh itself, or the git that runs
    // it with `-c core.sshCommand=…`: a small clone's ssh may come and go between two samples), so
    // the command-line check above was not vacuous. Its exact arguments are checked in unit tests.
    expect(
      [...watch.commandLines.seen].some((line) => line.includes('StrictHostKeyChecking=yes') && line.includes('IdentitiesOnly=yes')),
    ).toBe(true);
  });
});

import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { loadConfig } from '@archiver/config';
import { PrismaService } from '@archiver/database';
import { QueueName, redisOptions } from '@archiver/queue';
import { ObjectStoreRepository } from '@archiver/storage';
import {
  ApiClient,
  type AppProcess,
  type ArchiveView,
  createFixtureRepos,
  fixtureGit,
  type FixtureRepos,
  type GiteaClient,
  type GiteaToken,
  type GiteaUser,
  KeycloakTestClient,
  pushFixture,
  readAll,
  readManifestWithFiles,
  RecordingApiClient,
  removeRepositoriesUnder,
  SecretLeakWatch,
  settledArchive,
  startApp,
  startGitea,
  tearDown,
  uniqueName,
} from '@archiver/testing';

interface RepositoryView {
  id: string;
  credential: unknown;
}

// One-off archives of private repositories on the real Gitea forge (issue 12 item 1, "and a
// one-off archive"): POST /api/archives with a token clones the repository once with it, byte
// for byte; without one the archive fails AUTH_REQUIRED; the token is used for that archive
// only (the repository gets no credential), and shows up nowhere in clear.
describe('one-off archives with their own credential', () => {
  const config = loadConfig();
  const prisma = new PrismaService(config);
  const store = new ObjectStoreRepository(config.minio);
  const connection = redisOptions(config.redis.url, 'producer');
  const queues = [new Queue(QueueName.Pending, { connection }), new Queue(QueueName.Archive, { connection })];
  const keycloak = KeycloakTestClient.fromEnvironment();
  const workDir = path.join(os.tmpdir(), `archiver-archive-credentials-${process.pid}`);
  const apps: AppProcess[] = [];
  /** What the suite's secrets could leak into: API answers and command lines, collected as it runs. */
  const watch = new SecretLeakWatch({ prisma, store, workDir });
  const { answers, commandLines } = watch;
  let scratch: string;
  let fixtures: FixtureRepos;
  let gitea: GiteaClient;
  let giteaUrl: string;
  let owner: GiteaUser;
  let token: GiteaToken;
  let requester: ApiClient;
  let someoneElse: ApiClient;

  const call = <T>(client: ApiClient, method: string, route: string, json?: unknown) => client.call<T>(method, route, { json });
  const privateRepo = async () => {
    const repo = await gitea.createRepo(owner.username, uniqueName('oneoff'), { private: true });
    await pushFixture(fixtures.multi, repo.cloneUrl, { token: token.token });
    return repo;
  };
  const archived = async (client: ApiClient, body: Record<string, unknown>): Promise<ArchiveView> => {
    const submitted = await call<ArchiveView>(client, 'POST', '/api/archives', body);
    expect(submitted.status).toBe(202);
    return commandLines.during(settledArchive(client, submitted.body.id, 120_000));
  };

  beforeAll(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'archiver-archive-credentials-'));
    fixtures = await createFixtureRepos(scratch);
    const forge = await startGitea();
    gitea = forge.client;
    giteaUrl = forge.url;
    owner = await gitea.createUser(uniqueName('owner'));
    token = await gitea.createToken(owner, uniqueName('oneoff'));
    apps.push(
      ...(await Promise.all([
        startApp('frontend'),
        startApp('injector'),
        startApp('worker', { ARCHIVER_WORK_DIR: workDir, CLONE_TIMEOUT_SECONDS: '60' }),
      ])),
    );
    const [one, two] = await Promise.all(
      ['oneoff', 'other'].map((name) => keycloak.createUser({ username: uniqueName(name), realmRoles: ['archiver-user'] })),
    );
    requester = new RecordingApiClient(apps[0].url, () => keycloak.passwordToken(one.username, one.password), answers);
    someoneElse = new RecordingApiClient(apps[0].url, () => keycloak.passwordToken(two.username, two.password), answers);
  }, 240_000);

  afterAll(() =>
    tearDown({
      apps,
      cleanUp: async () => owner && removeRepositoriesUnder(`${giteaUrl}/${owner.username}/`, { prisma, store, queues }),
      close: [() => store.close(), ...queues.map((q) => () => q.close()), () => keycloak.cleanup(), () => prisma.$disconnect()],
      dirs: [scratch, workDir],
    }),
  );

  it('archives a private repository once with a token, byte for byte; without the token it fails AUTH_REQUIRED', async () => {
    const repo = await privateRepo();
    const without = await archived(requester, { url: repo.cloneUrl });
    expect(without).toMatchObject({ status: 'failed', error: { code: 'AUTH_REQUIRED' } });

    const done = await archived(requester, { url: repo.cloneUrl, credential: { kind: 'token', token: token.token } });
    expect(done).toMatchObject({ status: 'completed', error: null });
    const manifest = await readManifestWithFiles(store, done.bucket!, done.prefix!);
    expect(manifest.commit).toBe((await fixtureGit(['rev-parse', 'HEAD'], fixtures.multi)).toString().trim());
    expect(manifest.files.length).toBeGreaterThan(5);
    for (const entry of manifest.files) {
      const expected = await fixtureGit(['cat-file', 'blob', `HEAD:${entry.path}`], fixtures.multi);
      const stored = await readAll(await store.getObject(done.bucket!, entry.key));
      expect({ path: entry.path, equal: stored.equals(expected) }).toEqual({ path: entry.path, equal: true });
    }

    // For that archive only: the repository has no credential, so the next plain one fails again.
    const { repositoryId } = (await prisma.archive.findUnique({ where: { id: done.id } }))!;
    const repository = await prisma.repository.findUnique({ where: { id: repositoryId } });
    expect(repository).toMatchObject({ credential: null, credentialKind: null });
    expect(await archived(requester, { url: repo.cloneUrl })).toMatchObject({ status: 'failed', error: { code: 'AUTH_REQUIRED' } });

    // What the token fetched is the requester's to read, not a tracker's who never proved access.
    expect((await call(requester, 'GET', `/api/archives/${done.id}/tree`)).status).toBe(200);
    const tracked = await call<RepositoryView>(someoneElse, 'POST', '/api/repositories', { url: repo.cloneUrl });
    expect(tracked.status).toBe(201);
    expect((await call(someoneElse, 'GET', `/api/archives/${done.id}`)).status).toBe(404);
    expect((await call(someoneElse, 'GET', `/api/archives/${done.id}/tree`)).status).toBe(404);
  });

  it('refuses a credential that does not fit the URL, or an unusable SSH key, before recording anything', async () => {
    const repo = await privateRepo();
    const sshUrl = `ssh://git@127.0.0.1:22/${owner.username}/${repo.name}.git`;
    const cases = [
      {
        url: repo.cloneUrl,
        credential: { kind: 'ssh', privateKey: '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n' },
      },
      { url: sshUrl, credential: { kind: 'token', token: token.token } },
      {
        url: sshUrl,
        credential: { kind: 'ssh', privateKey: '-----BEGIN OPENSSH PRIVATE KEY-----\nbm90IGEga2V5\n-----END OPENSSH PRIVATE KEY-----\n' },
      },
      { url: repo.cloneUrl, credential: { kind: 'token', token: '' } },
    ];
    for (const body of cases) {
      const answer = await call<{ error: { code: string; message: string } }>(requester, 'POST', '/api/archives', body);
      expect({ body: body.credential.kind, status: answer.status }).toEqual({ body: body.credential.kind, status: 400 });
      expect(['CREDENTIAL_INVALID', 'INVALID_REQUEST']).toContain(answer.body.error.code);
    }
    expect(await prisma.archive.count({ where: { normalizedUrl: { contains: `/${owner.username}/${repo.name}` } } })).toBe(0);
  });

  it('never lets the token out: not in logs, API answers, command lines, the database or buckets in clear, or left-over files; its ciphertext is dropped once finished', async () => {
    const secrets = [token.token, Buffer.from(`x-access-token:${token.token}`).toString('base64')];
    const { found, searched } = await watch.search({ secrets, apps, normalizedUrlLike: `%/${owner.username}/%` });
    expect(searched.rows).toBeGreaterThan(3);
    expect(searched.buckets).toBeGreaterThan(0);
    expect(searched.commandLines).toBeGreaterThan(0);
    expect(found).toEqual([]);

    // A new submission sweeps finished archives' ciphertexts; the kind stays as the record.
    const repo = await privateRepo();
    await archived(requester, { url: repo.cloneUrl, credential: { kind: 'basic', username: owner.username, password: token.token } });
    const last = await call<ArchiveView>(requester, 'POST', '/api/archives', {
      url: repo.cloneUrl,
      credential: { kind: 'token', token: token.token },
    });
    expect(last.status).toBe(202);
    const kept = await prisma.$queryRaw<{ id: string; kind: string; credential: string | null; status: string }[]>`
      SELECT c.archive_id::text AS id, c.credential_kind AS kind, c.credential, a.status::text AS status FROM archive_credential c
        JOIN archive a ON a.id = c.archive_id WHERE a.normalized_url LIKE ${`%/${owner.username}/%`}`;
    const earlier = kept.filter((row) => row.id !== last.body.id);
    expect(earlier.length).toBeGreaterThanOrEqual(2);
    // Everything submitted before the last one had finished when it came: swept.
    expect(earlier.map((row) => [row.status, row.credential])).toEqual(
      earlier.map(() => [expect.stringMatching(/^(completed|failed)$/), null]),
    );
    expect(kept.find((row) => row.id === last.body.id)?.credential).toMatch(/^v\d+\./);
    await settledArchive(requester, last.body.id, 120_000);
    expect(new Set(kept.map((row) => row.kind))).toEqual(new Set(['token', 'basic']));
  });
});

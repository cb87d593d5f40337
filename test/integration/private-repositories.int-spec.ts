import { mkdtemp } from 'node:fs/promises';
import { connect, createServer, type Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { loadConfig } from '@archiver/config';
import { CredentialCipher } from '@archiver/credentials';
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
  gitWithAuth,
  KeycloakTestClient,
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
  waitFor,
} from '@archiver/testing';

/**
 * A TCP relay to the forge that holds every connection back a moment before passing it on: a
 * slow network, so that git is still running while the test reads the process list.
 */
async function startSlowRelay(targetPort: number, delayMs: number): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer((client) => {
    client.pause();
    const timer = setTimeout(() => {
      const upstream = connect(targetPort, '127.0.0.1');
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
      client.pipe(upstream).pipe(client);
      client.resume();
    }, delayMs);
    client.on('close', () => clearTimeout(timer));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

interface CredentialView {
  kind: string;
  set: true;
  lastUsedAt: string | null;
}
interface RepositoryView {
  id: string;
  credential: CredentialView | null;
  visits?: { items: ArchiveView[] };
}

// Private repositories on the real Gitea forge, through the REST API and the real apps: the
// token (stored encrypted) opens them, its absence or revocation fails AUTH_REQUIRED, a PATCH
// rotates it, and the secret shows up nowhere — logs, bucket, API, database, process list.
describe('private repositories over HTTPS with a token', () => {
  const config = loadConfig();
  const prisma = new PrismaService(config);
  const store = new ObjectStoreRepository(config.minio);
  const connection = redisOptions(config.redis.url, 'producer');
  const queues = [new Queue(QueueName.Pending, { connection }), new Queue(QueueName.Archive, { connection })];
  const keycloak = KeycloakTestClient.fromEnvironment();
  const workDir = path.join(os.tmpdir(), `archiver-private-${process.pid}`);
  const apps: AppProcess[] = [];
  /** What the suite's secrets could leak into: API answers and command lines, collected as it runs. */
  const watch = new SecretLeakWatch({ prisma, store, workDir });
  const { answers, commandLines } = watch;
  let scratch: string;
  let fixtures: FixtureRepos;
  let gitea: GiteaClient;
  let giteaUrl: string;
  /** Where this file's repositories live: the forge, and the slow relay in front of it. */
  const forgeUrls: string[] = [];
  let owner: GiteaUser;
  const tokens: GiteaToken[] = [];
  let api: ApiClient;

  const call = <T>(method: string, route: string, json?: unknown) => api.call<T>(method, route, { json });
  const privateRepo = async () => {
    const repo = await gitea.createRepo(owner.username, uniqueName('private'), { private: true });
    await gitWithAuth(['push', '--quiet', repo.cloneUrl, '+refs/heads/*:refs/heads/*', '+refs/tags/*:refs/tags/*'], fixtures.multi, {
      token: tokens[0].token,
    });
    return repo;
  };
  const visitOf = async (repositoryId: string): Promise<ArchiveView> => {
    // The cooldown is 1 s: a visit asked for right after the last one waits it out.
    const asked = await waitFor('a visit accepted', async () => {
      const answer = await call<ArchiveView>('POST', `/api/repositories/${repositoryId}/visits`);
      return answer.status === 429 ? undefined : answer;
    });
    expect(asked.status).toBe(202);
    return commandLines.during(settledArchive(api, asked.body.id));
  };
  const firstVisit = async (repositoryId: string): Promise<ArchiveView> => {
    const detail = await call<RepositoryView>('GET', `/api/repositories/${repositoryId}`);
    return commandLines.during(settledArchive(api, detail.body.visits!.items.at(-1)!.id));
  };
  const expectSameFiles = async (done: ArchiveView) => {
    const manifest = await readManifestWithFiles(store, done.bucket!, done.prefix!);
    expect(manifest.commit).toBe((await fixtureGit(['rev-parse', 'HEAD'], fixtures.multi)).toString().trim());
    expect(manifest.files.length).toBeGreaterThan(5);
    for (const entry of manifest.files) {
      const expected = await fixtureGit(['cat-file', 'blob', `HEAD:${entry.path}`], fixtures.multi);
      const stored = await readAll(await store.getObject(done.bucket!, entry.key));
      expect({ path: entry.path, equal: stored.equals(expected) }).toEqual({ path: entry.path, equal: true });
    }
  };

  beforeAll(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'archiver-private-fixtures-'));
    fixtures = await createFixtureRepos(scratch);
    const forge = await startGitea();
    gitea = forge.client;
    giteaUrl = forge.url;
    forgeUrls.push(giteaUrl);
    owner = await gitea.createUser(uniqueName('owner'));
    tokens.push(await gitea.createToken(owner, uniqueName('archiver')));
    const started = await Promise.all([
      startApp('frontend', { REPOSITORY_VISIT_COOLDOWN_SECONDS: '1' }),
      startApp('injector'),
      startApp('worker', { ARCHIVER_WORK_DIR: workDir, CLONE_TIMEOUT_SECONDS: '60' }),
    ]);
    apps.push(...started);
    const user = await keycloak.createUser({ username: uniqueName('private'), realmRoles: ['archiver-user'] });
    api = new RecordingApiClient(started[0].url, () => keycloak.passwordToken(user.username, user.password), answers);
  });

  afterAll(() =>
    tearDown({
      apps,
      cleanUp: async () => {
        for (const base of owner ? forgeUrls : []) await removeRepositoriesUnder(`${base}/${owner.username}/`, { prisma, store, queues });
      },
      close: [() => store.close(), ...queues.map((q) => () => q.close()), () => keycloak.cleanup(), () => prisma.$disconnect()],
      dirs: [scratch, workDir],
    }),
  );

  it('archives a private repository with its token, byte for byte, and shows only that a credential is set', async () => {
    const repo = await privateRepo();
    const tracked = await call<RepositoryView>('POST', '/api/repositories', {
      url: repo.cloneUrl,
      credential: { kind: 'token', token: tokens[0].token },
    });
    expect(tracked.status).toBe(201);
    // The first visit is queued with the tracking and may already have used the credential.
    const { lastUsedAt, ...shown } = tracked.body.credential!;
    expect(shown).toEqual({ kind: 'token', set: true });
    expect(lastUsedAt === null || !Number.isNaN(Date.parse(lastUsedAt))).toBe(true);

    const done = await firstVisit(tracked.body.id);
    expect(done).toMatchObject({ status: 'completed', error: null });
    await expectSameFiles(done);
    const after = await call<RepositoryView>('GET', `/api/repositories/${tracked.body.id}`);
    expect(after.body.credential).toEqual({ kind: 'token', set: true, lastUsedAt: expect.any(String) });

    // Stored encrypted: the ciphertext format, never the token.
    const [row] = await prisma.$queryRaw<{ credential: string; kind: string }[]>`
      SELECT credential, credential_kind AS kind FROM repository WHERE id = ${tracked.body.id}::uuid`;
    expect(row).toMatchObject({ kind: 'token', credential: expect.stringMatching(/^v2\.[\w-]+\.[\w-]{16}\.[\w-]{22}\.[\w-]+$/) });
  });

  it('fails AUTH_REQUIRED without a credential, and with a revoked one', async () => {
    const repo = await privateRepo();
    const without = await call<RepositoryView>('POST', '/api/repositories', { url: repo.cloneUrl });
    expect(without.body.credential).toBeNull();
    expect(await firstVisit(without.body.id)).toMatchObject({ status: 'failed', error: { code: 'AUTH_REQUIRED' } });

    const revoked = await gitea.createToken(owner, uniqueName('revoked'));
    await gitea.deleteToken(owner, revoked);
    await call('PATCH', `/api/repositories/${without.body.id}`, { credential: { kind: 'token', token: revoked.token } });
    const failed = await visitOf(without.body.id);
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'AUTH_REQUIRED' } });
    expect(failed.error!.message).toMatch(/refused the repository's credential/);
  });

  it('uses a rotated token from the next visit on, after the old one is revoked in Gitea', async () => {
    const repo = await privateRepo();
    const first = await gitea.createToken(owner, uniqueName('first'));
    tokens.push(first);
    const tracked = await call<RepositoryView>('POST', '/api/repositories', {
      url: repo.cloneUrl,
      credential: { kind: 'token', token: first.token },
    });
    expect(await firstVisit(tracked.body.id)).toMatchObject({ status: 'completed' });

    const second = await gitea.createToken(owner, uniqueName('second'));
    tokens.push(second);
    const rotated = await call<RepositoryView>('PATCH', `/api/repositories/${tracked.body.id}`, {
      credential: { kind: 'basic', username: owner.username, password: second.token },
    });
    expect(rotated.status).toBe(200);
    expect(rotated.body.credential).toEqual({ kind: 'basic', set: true, lastUsedAt: null });
    await gitea.deleteToken(owner, first);

    const next = await visitOf(tracked.body.id);
    expect(next).toMatchObject({ status: 'completed', error: null });

    const removed = await call<RepositoryView>('PATCH', `/api/repositories/${tracked.body.id}`, { credential: null });
    expect(removed.body.credential).toBeNull();
    expect(await visitOf(tracked.body.id)).toMatchObject({ status: 'failed', error: { code: 'AUTH_REQUIRED' } });
  });

  it('lets only trackers and admins change a credential: someone else can neither replace it by tracking nor PATCH it', async () => {
    const repo = await privateRepo();
    const tracked = await call<RepositoryView>('POST', '/api/repositories', {
      url: repo.cloneUrl,
      credential: { kind: 'token', token: tokens[0].token },
    });
    const stranger = await keycloak.createUser({ username: uniqueName('stranger'), realmRoles: ['archiver-user'] });
    const other = new RecordingApiClient(apps[0].url, () => keycloak.passwordToken(stranger.username, stranger.password), answers);
    const patched = await other.call('PATCH', `/api/repositories/${tracked.body.id}`, {
      json: { credential: { kind: 'token', token: 'theirs' } },
    });
    expect(patched.status).toBe(404);
    const replaced = await other.call<{ error: { code: string } }>('POST', '/api/repositories', {
      json: { url: repo.cloneUrl, credential: { kind: 'token', token: 'theirs' } },
    });
    expect(replaced.status).toBe(409);
    expect(replaced.body.error.code).toBe('CREDENTIAL_ALREADY_SET');
    const [row] = await prisma.$queryRaw<{ credential: string }[]>`SELECT credential FROM repository WHERE id = ${tracked.body.id}::uuid`;
    expect(new CredentialCipher(config.credentials.keys).decrypt(row.credential, tracked.body.id)).toEqual({
      kind: 'token',
      token: tokens[0].token,
    });
  });

  it('hands the token to git through the credential helper, not on its command line, while git runs', async () => {
    const relay = await startSlowRelay(Number(new URL(giteaUrl).port), 300);
    forgeUrls.push(relay.url);
    try {
      const repo = await privateRepo();
      const url = `${relay.url}/${repo.owner}/${repo.name}.git`;
      const tracked = await call<RepositoryView>('POST', '/api/repositories', {
        url,
        credential: { kind: 'token', token: tokens[0].token },
      });
      expect(await firstVisit(tracked.body.id)).toMatchObject({ status: 'completed' });
      // The sampler saw git at work with the helper (a file path) on its command line.
      const helpers = [...commandLines.seen].filter((line) => line.includes(`credential.${relay.url}.helper=`));
      expect(helpers.length).toBeGreaterThan(0);
      for (const line of helpers) expect(line).not.toContain(tokens[0].token);
    } finally {
      await relay.close();
    }
  });

  it('never lets a token out: not in logs, the bucket, API answers, the database in clear, or any command line', async () => {
    // The tokens, and the Authorization values they would travel in.
    const secrets = tokens.flatMap((t) => [
      t.token,
      ...['x-access-token', owner.username].map((user) => Buffer.from(`${user}:${t.token}`).toString('base64')),
    ]);
    expect(tokens.length).toBeGreaterThanOrEqual(3);
    const { found, searched } = await watch.search({ secrets, apps, normalizedUrlLike: `%/${owner.username}/%` });
    expect(searched.rows).toBeGreaterThan(3);
    expect(searched.buckets).toBeGreaterThan(0);
    expect(found).toEqual([]);
    expect(searched.commandLines).toBeGreaterThan(0);
  });
});

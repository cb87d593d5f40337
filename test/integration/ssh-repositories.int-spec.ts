import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Queue } from 'bullmq';
import { loadConfig } from '@archiver/config';
import { PERMANENT_VISIT_FAILURES, PrismaService } from '@archiver/database';
import { normalizeRepositoryUrl, parseHostKeys } from '@archiver/git';
import { QueueName, redisOptions } from '@archiver/queue';
import { ObjectStoreRepository } from '@archiver/storage';
import {
  ApiClient,
  type AppProcess,
  type ArchiveView,
  createFixtureRepos,
  fixtureGit,
  type FixtureRepos,
  generateSshKeyPair,
  type GiteaClient,
  type GiteaRepo,
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

const run = promisify(execFile);

interface RepositoryView {
  id: string;
  state: string;
  credential: { kind: string; set: true; lastUsedAt: string | null } | null;
  visits?: { items: ArchiveView[]; total: number };
}

const SSH_KEY_TYPES: Record<string, string> = { 'ssh-ed25519': 'ed25519', 'ssh-rsa': 'rsa', 'ecdsa-sha2-nistp256': 'ecdsa' };

// SSH repositories with deploy keys on the real Gitea (its built-in SSH server), through the
// real apps: the key opens the repository, the host key is pinned at the first visit and a
// different one then fails HOST_KEY_CHANGED (permanent), hostile SSH URLs are refused before
// anything runs, the key shows up nowhere, and a second user without a working credential of
// their own sees none of the snapshots.
describe('SSH repositories with deploy keys', () => {
  const config = loadConfig();
  const prisma = new PrismaService(config);
  const store = new ObjectStoreRepository(config.minio);
  const connection = redisOptions(config.redis.url, 'producer');
  const queues = [new Queue(QueueName.Pending, { connection }), new Queue(QueueName.Archive, { connection })];
  const keycloak = KeycloakTestClient.fromEnvironment();
  const workDir = path.join(os.tmpdir(), `archiver-ssh-${process.pid}`);
  const apps: AppProcess[] = [];
  /** What the suite's secrets could leak into: API answers and command lines, collected as it runs. */
  const watch = new SecretLeakWatch({ prisma, store, workDir });
  const { answers, commandLines } = watch;
  const privateKeys: string[] = [];
  let scratch: string;
  let fixtures: FixtureRepos;
  let gitea: GiteaClient;
  let owner: GiteaUser;
  let token: GiteaToken;
  let api: ApiClient;
  let other: ApiClient;
  let sshPrefix = '';

  const callAs = <T>(client: ApiClient, method: string, route: string, json?: unknown) => client.call<T>(method, route, { json });
  const call = <T>(method: string, route: string, json?: unknown) => callAs<T>(api, method, route, json);

  /** A private repository holding the multi fixture, and a fresh deploy key (read-only) for it. */
  const privateRepoWithDeployKey = async (): Promise<{ repo: GiteaRepo; privateKey: string }> => {
    const repo = await gitea.createRepo(owner.username, uniqueName('ssh'), { private: true });
    await gitWithAuth(['push', '--quiet', repo.cloneUrl, '+refs/heads/*:refs/heads/*', '+refs/tags/*:refs/tags/*'], fixtures.multi, {
      token: token.token,
    });
    const keyDir = await mkdtemp(path.join(scratch, 'key-'));
    const { privateKey, publicKey } = await generateSshKeyPair(keyDir);
    privateKeys.push(privateKey);
    await gitea.addDeployKey(repo, uniqueName('archiver'), publicKey);
    return { repo, privateKey };
  };
  const firstVisit = async (repositoryId: string): Promise<ArchiveView> => {
    const detail = await call<RepositoryView>('GET', `/api/repositories/${repositoryId}`);
    return commandLines.during(settledArchive(api, detail.body.visits!.items.at(-1)!.id));
  };
  const visitOf = async (repositoryId: string): Promise<ArchiveView> => {
    const asked = await waitFor('a visit accepted', async () => {
      const answer = await call<ArchiveView>('POST', `/api/repositories/${repositoryId}/visits`);
      return answer.status === 429 ? undefined : answer;
    });
    expect(asked.status).toBe(202);
    return commandLines.during(settledArchive(api, asked.body.id));
  };
  const pinnedHostKey = async (repositoryId: string): Promise<string | null> => {
    const [row] = await prisma.$queryRaw<
      { key: string | null }[]
    >`SELECT ssh_host_key AS key FROM repository WHERE id = ${repositoryId}::uuid`;
    return row.key;
  };
  /** The forge's host keys, as a person would fetch them to pin or accept them. */
  const forgeHostKeys = async (): Promise<string> => {
    const { port } = normalizeRepositoryUrl(sshPrefix + 'x/y');
    const { stdout } = await run('ssh-keyscan', ['-T', '10', '-p', String(port), '127.0.0.1'], { timeout: 20_000 });
    return parseHostKeys(stdout);
  };
  /** Host keys of the same types as the forge's, but not the forge's: what an impostor would present. */
  const impostorHostKeys = async (): Promise<string> => {
    const dir = await mkdtemp(path.join(scratch, 'impostor-'));
    const lines: string[] = [];
    for (const [index, line] of (await forgeHostKeys()).split('\n').entries()) {
      const type = SSH_KEY_TYPES[line.split(' ')[0]];
      if (!type) continue;
      const file = path.join(dir, `k${index}`);
      await run('ssh-keygen', ['-q', '-t', type, '-N', '', '-f', file], { timeout: 30_000 });
      lines.push((await readFile(`${file}.pub`, 'utf8')).trim());
    }
    expect(lines.length).toBeGreaterThan(0);
    return lines.join('\n');
  };
  const expectSameContent = async (done: ArchiveView) => {
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
    scratch = await mkdtemp(path.join(os.tmpdir(), 'archiver-ssh-fixtures-'));
    fixtures = await createFixtureRepos(scratch);
    gitea = (await startGitea()).client;
    owner = await gitea.createUser(uniqueName('sshowner'));
    token = await gitea.createToken(owner, uniqueName('push'));
    const started = await Promise.all([
      startApp('frontend', { REPOSITORY_VISIT_COOLDOWN_SECONDS: '1' }),
      startApp('injector'),
      startApp('worker', { ARCHIVER_WORK_DIR: workDir, CLONE_TIMEOUT_SECONDS: '60' }),
    ]);
    apps.push(...started);
    const [first, second] = await Promise.all([
      keycloak.createUser({ username: uniqueName('sshuser'), realmRoles: ['archiver-user'] }),
      keycloak.createUser({ username: uniqueName('sshother'), realmRoles: ['archiver-user'] }),
    ]);
    api = new RecordingApiClient(started[0].url, () => keycloak.passwordToken(first.username, first.password), answers);
    other = new RecordingApiClient(started[0].url, () => keycloak.passwordToken(second.username, second.password), answers);
    const probe = await gitea.createRepo(owner.username, uniqueName('probe'), { private: true });
    const url = normalizeRepositoryUrl(probe.sshUrl).normalizedUrl;
    sshPrefix = url.slice(0, url.lastIndexOf('/') + 1);
  });

  afterAll(() =>
    tearDown({
      apps,
      cleanUp: async () => sshPrefix && removeRepositoriesUnder(sshPrefix, { prisma, store, queues }),
      close: [() => store.close(), ...queues.map((q) => () => q.close()), () => keycloak.cleanup(), () => prisma.$disconnect()],
      dirs: [scratch, workDir],
    }),
  );

  it('archives a private repository over SSH with a deploy key, byte for byte, pins the host key, and restores', async () => {
    const { repo, privateKey } = await privateRepoWithDeployKey();
    expect(repo.sshUrl).toMatch(/^(ssh:\/\/|[^@]+@)/);
    const tracked = await call<RepositoryView>('POST', '/api/repositories', { url: repo.sshUrl, credential: { kind: 'ssh', privateKey } });
    expect(tracked.status).toBe(201);
    // The first visit is queued with the tracking and may already have used the credential.
    const { lastUsedAt, ...shown } = tracked.body.credential!;
    expect(shown).toEqual({ kind: 'ssh', set: true });
    expect(lastUsedAt === null || !Number.isNaN(Date.parse(lastUsedAt))).toBe(true);
    // No host key given: the first visit (already queued) pins whatever it may be, once.
    expect([null, await forgeHostKeys()]).toContain(await pinnedHostKey(tracked.body.id));

    const done = await firstVisit(tracked.body.id);
    expect(done).toMatchObject({ status: 'completed', error: null });
    await expectSameContent(done);
    // Trust on first use: exactly the forge's keys, scanned at the vetted address.
    expect(await pinnedHostKey(tracked.body.id)).toBe(await forgeHostKeys());

    const download = await call<{ url: string; cloneCommand: string }>('GET', `/api/archives/${done.id}/download`);
    expect(download.status).toBe(200);
    const restoreDir = await mkdtemp(path.join(scratch, 'restore-'));
    const fetched = await fetch(download.body.url, { signal: AbortSignal.timeout(20_000) });
    await writeFile(path.join(restoreDir, 'repo.bundle'), Buffer.from(await fetched.arrayBuffer()));
    const [cmd, ...args] = download.body.cloneCommand.split(' ');
    await run(cmd, args, { cwd: restoreDir });
    const restored = (await run('git', ['-C', path.join(restoreDir, args[2]), 'rev-parse', 'refs/remotes/origin/main'])).stdout.trim();
    expect(restored).toBe((await fixtureGit(['rev-parse', 'refs/heads/main'], fixtures.multi)).toString().trim());

    // A second visit goes through the pinned key (the probe finds nothing changed).
    expect(await visitOf(tracked.body.id)).toMatchObject({ status: 'completed', error: null });
  });

  it('fails HOST_KEY_CHANGED when the server presents another key than the pinned one, permanently, until the new key is accepted', async () => {
    const { repo, privateKey } = await privateRepoWithDeployKey();
    const impostor = await impostorHostKeys();
    // Pinned to keys the forge does not hold: to ssh, the forge is now the impostor.
    const tracked = await call<RepositoryView>('POST', '/api/repositories', {
      url: repo.sshUrl,
      credential: { kind: 'ssh', privateKey, hostKey: impostor },
    });
    expect(tracked.status).toBe(201);
    const failed = await firstVisit(tracked.body.id);
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'HOST_KEY_CHANGED' } });
    expect(failed.error!.message).toMatch(/PATCH .*hostKey/);
    expect(await pinnedHostKey(tracked.body.id)).toBe(parseHostKeys(impostor));
    // The scheduler counts it as permanent: with the default policy a permanent failure streak disables.
    const [row] = await prisma.$queryRaw<{ failures: number }[]>`
      SELECT consecutive_failures AS failures FROM repository WHERE id = ${tracked.body.id}::uuid`;
    expect(row.failures).toBeGreaterThanOrEqual(1);
    expect(PERMANENT_VISIT_FAILURES.has('HOST_KEY_CHANGED')).toBe(true);

    // Accepting the real key is a PATCH with it; the next visit works.
    const accepted = await call<RepositoryView>('PATCH', `/api/repositories/${tracked.body.id}`, {
      credential: { kind: 'ssh', privateKey, hostKey: await forgeHostKeys() },
    });
    expect(accepted.status).toBe(200);
    expect(await visitOf(tracked.body.id)).toMatchObject({ status: 'completed', error: null });
  });

  it('refuses hostile SSH URLs and unusable keys with 400 before anything is written or run', async () => {
    const { privateKey } = await privateRepoWithDeployKey();
    const { host, port } = normalizeRepositoryUrl(sshPrefix + 'x/y');
    const hostile = [
      `ssh://git@-oProxyCommand=touch%20${scratch}/pwned/o/r`,
      'git@-oProxyCommand=sh:o/r',
      `ssh://-oProxyCommand=x@${host}:${port}/o/r`,
      '-oProxyCommand=x@host:o/r',
      `git@${host}:-u/o/r`,
      `ssh://git@${host}:${port}/--upload-pack=touch/r`,
      'ext::ssh -oProxyCommand=touch% x %S',
      "git@host:o/r'$(id)'",
      'ssh://git@10.1.2.3/o/r',
      'git@169.254.169.254:o/r',
    ];
    for (const url of hostile) {
      const answer = await call<{ error: { code: string } }>('POST', '/api/repositories', { url, credential: { kind: 'ssh', privateKey } });
      expect({ url, status: answer.status }).toEqual({ url, status: 400 });
      expect(['INVALID_URL', 'BLOCKED_BY_POLICY', 'INVALID_REQUEST']).toContain(answer.body.error.code);
    }
    await expect(readdir(scratch)).resolves.not.toContain('pwned');
    const rows = await prisma.$queryRaw<{ n: number }[]>`
      SELECT COUNT(*)::int AS n FROM repository WHERE normalized_url LIKE '%oProxyCommand%' OR normalized_url LIKE '%10.1.2.3%'`;
    expect(rows[0].n).toBe(0);

    const { repo } = await privateRepoWithDeployKey();
    const bad = async (credential: unknown, url = repo.sshUrl) =>
      (await call<{ error: { code: string; message: string } }>('POST', '/api/repositories', { url, credential })).body.error;
    const passphraseDir = await mkdtemp(path.join(scratch, 'pp-'));
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'secret-pass', '-f', path.join(passphraseDir, 'k')], { timeout: 30_000 });
    const protectedKey = await readFile(path.join(passphraseDir, 'k'), 'utf8');
    expect(await bad({ kind: 'ssh', privateKey: protectedKey })).toMatchObject({
      code: 'CREDENTIAL_INVALID',
      message: expect.stringMatching(/passphrase/),
    });
    const broken = privateKey.replace(/\n[A-Za-z0-9+/]{20}/, '\nAAAAAAAAAAAAAAAAAAAA');
    expect(await bad({ kind: 'ssh', privateKey: broken })).toMatchObject({ code: 'CREDENTIAL_INVALID' });
    expect(await bad({ kind: 'ssh', privateKey, hostKey: 'not a key' })).toMatchObject({ code: 'CREDENTIAL_INVALID' });
    expect(await bad({ kind: 'token', token: 't' })).toMatchObject({
      code: 'CREDENTIAL_INVALID',
      message: expect.stringMatching(/SSH key/),
    });
    expect(await bad({ kind: 'ssh', privateKey }, repo.cloneUrl)).toMatchObject({ code: 'CREDENTIAL_INVALID' });
  });

  it("shows a private repository's snapshots only to trackers who proved access with their own credential", async () => {
    const { repo, privateKey } = await privateRepoWithDeployKey();
    const tracked = await call<RepositoryView>('POST', '/api/repositories', { url: repo.sshUrl, credential: { kind: 'ssh', privateKey } });
    const done = await firstVisit(tracked.body.id);
    expect(done.status).toBe('completed');

    // The second user tracks the same URL without a credential: the repository, yes; its snapshots, no.
    const theirs = await callAs<RepositoryView>(other, 'POST', '/api/repositories', { url: repo.sshUrl });
    expect(theirs.status).toBe(201);
    expect(theirs.body.id).toBe(tracked.body.id);
    const detail = await callAs<RepositoryView>(other, 'GET', `/api/repositories/${tracked.body.id}`);
    expect(detail.status).toBe(200);
    expect(detail.body.visits!.items.filter((visit) => visit.status === 'completed')).toEqual([]);
    for (const route of [`/api/archives/${done.id}`, `/api/archives/${done.id}/download`, `/api/archives/${done.id}/restore`]) {
      expect({ route, status: (await callAs(other, 'GET', route)).status }).toEqual({ route, status: 404 });
    }
    expect((await callAs(other, 'GET', `/api/repositories/${tracked.body.id}/changes`)).status).toBe(403);
    // The first user, whose key made the snapshot, still sees it.
    expect((await call('GET', `/api/archives/${done.id}`)).status).toBe(200);

    // Once a visit with a working key of their own succeeds, the second user sees the content too.
    const { privateKey: ownKey, publicKey } = await generateSshKeyPair(await mkdtemp(path.join(scratch, 'own-')));
    privateKeys.push(ownKey);
    await gitea.addDeployKey(repo, uniqueName('theirs'), publicKey);
    expect(
      (await callAs(other, 'PATCH', `/api/repositories/${tracked.body.id}`, { credential: { kind: 'ssh', privateKey: ownKey } })).status,
    ).toBe(200);
    expect(await visitOf(tracked.body.id)).toMatchObject({ status: 'completed' });
    expect((await callAs(other, 'GET', `/api/archives/${done.id}`)).status).toBe(200);
  });

  it('never lets a private key out: not in logs, the bucket, API answers, the database in clear, command lines or left-over files', async () => {
    // A line from the middle of each key: any copy of the key holds it.
    const secrets = privateKeys.flatMap((key) => [key, key.split('\n')[2]!]).filter((s) => s.length > 20);
    expect(privateKeys.length).toBeGreaterThanOrEqual(4);
    const { found, searched } = await watch.search({ secrets, apps, normalizedUrlLike: `${sshPrefix}%` });
    expect(searched.rows).toBeGreaterThan(3);
    expect(searched.buckets).toBeGreaterThan(0);
    // ssh ran with our options (seen while visits ran).
    expect([...commandLines.seen].some((line) => line.includes('StrictHostKeyChecking=yes') && line.includes('IdentitiesOnly=yes'))).toBe(
      true,
    );
    expect(found).toEqual([]);
  });
});

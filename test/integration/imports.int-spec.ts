import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { loadConfig } from '@archiver/config';
import { PrismaService } from '@archiver/database';
import type { ImportDetailView, ImportPageView } from '@archiver/imports';
import { QueueName, redisOptions } from '@archiver/queue';
import { ObjectStoreRepository } from '@archiver/storage';
import {
  ApiClient,
  type AppProcess,
  type ArchiveView,
  closeAll,
  createFixtureRepos,
  type FixtureRepos,
  type GiteaClient,
  type GiteaRepo,
  type GiteaToken,
  type GiteaUser,
  gitWithAuth,
  KeycloakTestClient,
  removeArchivesUnder,
  settledArchive,
  startApp,
  startGitea,
  uniqueName,
  waitFor,
} from '@archiver/testing';

interface RepositoryView {
  id: string;
  url: string;
  credential: { kind: string } | null;
  visits?: { items: ArchiveView[] };
}

/** A loopback receiver for webhook deliveries. */
async function startReceiver(): Promise<{
  url: string;
  bodies: { event: string; details: Record<string, unknown> }[];
  stop: () => Promise<void>;
}> {
  const bodies: { event: string; details: Record<string, unknown> }[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      res.statusCode = 204;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/imports`, bodies, stop: () => new Promise((resolve) => server.close(() => resolve())) };
}

// Whole-organization import against the real Gitea: a worker pages through the organization's
// repositories (two per page here, so several pages), the filters decide, and each repository
// is tracked through the same path as POST /api/repositories — private ones with the import's
// token, so their visits complete.
describe('organization import from Gitea', () => {
  const config = loadConfig();
  const prisma = new PrismaService(config);
  const store = new ObjectStoreRepository(config.minio);
  const connection = redisOptions(config.redis.url, 'producer');
  const queues = [new Queue(QueueName.Pending, { connection }), new Queue(QueueName.Archive, { connection })];
  const keycloak = KeycloakTestClient.fromEnvironment();
  const workDir = path.join(os.tmpdir(), `archiver-imports-${process.pid}`);
  const apps: AppProcess[] = [];
  const answers: string[] = [];
  const subjects: string[] = [];
  let scratch: string;
  let fixtures: FixtureRepos;
  let gitea: GiteaClient;
  let giteaUrl: string;
  let owner: GiteaUser;
  let token: GiteaToken;
  let org: string;
  let api: ApiClient;
  let stranger: ApiClient;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const repos: Record<string, GiteaRepo> = {};

  const call = async <T>(client: ApiClient, method: string, route: string, json?: unknown) => {
    const response = await client.call<T>(method, route, json === undefined ? {} : { json });
    answers.push(response.text);
    return response;
  };
  const startImport = async (json: Record<string, unknown>): Promise<string> => {
    const accepted = await call<{ id: string; state: string }>(api, 'POST', '/api/imports', json);
    expect([accepted.status, accepted.body.state]).toEqual([202, 'listing']);
    return accepted.body.id;
  };
  const settledImport = (id: string) =>
    waitFor(
      `import ${id} settled`,
      async () => {
        const answer = await call<ImportDetailView>(api, 'GET', `/api/imports/${id}`);
        return answer.body.state === 'completed' || answer.body.state === 'failed' ? answer.body : undefined;
      },
      120_000,
    );
  const outcomes = (detail: ImportDetailView) => Object.fromEntries(detail.items.map((item) => [item.name.split('/')[1], item.outcome]));
  const trackedNames = async () => {
    const page = await call<{ items: RepositoryView[] }>(api, 'GET', '/api/repositories?pageSize=100');
    return page.body.items
      .map((item) =>
        item.url
          .replace(/\.git$/, '')
          .split('/')
          .pop(),
      )
      .sort();
  };
  const push = (repo: GiteaRepo) =>
    gitWithAuth(['push', '--quiet', repo.cloneUrl, '+refs/heads/*:refs/heads/*'], fixtures.multi, { token: token.token });

  beforeAll(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'archiver-imports-fixtures-'));
    fixtures = await createFixtureRepos(scratch);
    const forge = await startGitea();
    gitea = forge.client;
    giteaUrl = forge.url;
    owner = await gitea.createUser(uniqueName('importer'));
    token = await gitea.createToken(owner, uniqueName('import'));
    org = (await gitea.createOrganization(owner, uniqueName('org'))).name;
    for (const [name, isPrivate] of [
      ['api-public', false],
      ['api-private', true],
      ['web-private', true],
      ['web-skip', false],
      ['docs', false],
      ['api-archived', false],
    ] as const) {
      repos[name] = await gitea.createRepo(org, name, { private: isPrivate });
    }
    await Promise.all([push(repos['api-private']), push(repos['web-private']), push(repos['api-public'])]);
    await gitea.setArchived(repos['api-archived'], true);
    const upstream = await gitea.createRepo(owner.username, uniqueName('upstream'));
    await push(upstream);
    repos['api-fork'] = await gitea.fork(upstream, { token: token.token }, { organization: org, name: 'api-fork' });

    receiver = await startReceiver();
    const started = await Promise.all([
      startApp('frontend'),
      startApp('injector'),
      // Two repositories a page: the organization's seven take four pages.
      startApp('worker', { ARCHIVER_WORK_DIR: workDir, IMPORT_PAGE_SIZE: '2' }),
    ]);
    apps.push(...started);
    const user = await keycloak.createUser({ username: uniqueName('importer'), realmRoles: ['archiver-user'] });
    const other = await keycloak.createUser({ username: uniqueName('stranger'), realmRoles: ['archiver-user'] });
    api = new ApiClient(started[0].url, () => keycloak.passwordToken(user.username, user.password));
    stranger = new ApiClient(started[0].url, () => keycloak.passwordToken(other.username, other.password));
    subjects.push(user.id, other.id);
    const hook = await call(api, 'POST', '/api/webhooks', { url: receiver.url, events: ['import.finished'] });
    expect(hook.status).toBe(201);
  });

  afterAll(async () => {
    try {
      await Promise.all(apps.map((app) => app.stop()));
      if (org) {
        await removeArchivesUnder(`${giteaUrl}/${org}/`, { prisma, store, queues });
        await prisma.repository.deleteMany({ where: { normalizedUrl: { startsWith: `${giteaUrl}/${org}/` } } });
      }
      await prisma.repositoryImport.deleteMany({ where: { requestedBy: { in: subjects } } });
      await prisma.webhookEndpoint.deleteMany({ where: { ownerSubject: { in: subjects } } });
    } finally {
      store.close();
      await closeAll(
        ...queues.map((q) => q.close()),
        keycloak.cleanup(),
        prisma.$disconnect(),
        receiver?.stop(),
        scratch ? rm(scratch, { recursive: true, force: true }) : undefined,
        rm(workDir, { recursive: true, force: true }),
      );
    }
  });

  it('tracks exactly what the globs and flags select, private ones with the token, and a re-run finds them tracked', async () => {
    const first = await settledImport(
      await startImport({ forge: 'gitea', baseUrl: giteaUrl, owner: org, token: token.token, include: '{api,web}-*', exclude: '*-skip' }),
    );
    expect(first).toMatchObject({ state: 'completed', errorCode: null, hasToken: true });
    expect(outcomes(first)).toEqual({
      'api-public': 'tracked',
      'api-private': 'tracked',
      'web-private': 'tracked',
      'web-skip': 'excluded',
      docs: 'excluded',
      'api-archived': 'skipped_archived',
      'api-fork': 'skipped_fork',
    });
    expect(first.counts).toMatchObject({ total: 7, tracked: 3, excluded: 2, skipped_archived: 1, skipped_fork: 1, failed: 0 });
    expect(await trackedNames()).toEqual(['api-private', 'api-public', 'web-private']);

    // The private ones carry the import's token and archive completely.
    for (const name of ['api-private', 'web-private']) {
      const item = first.items.find((i) => i.name === `${org}/${name}`)!;
      expect(item).toMatchObject({ private: true, url: repos[name].cloneUrl });
      const detail = await call<RepositoryView>(api, 'GET', `/api/repositories/${item.repositoryId}`);
      expect(detail.body.credential).toMatchObject({ kind: 'token' });
      const visit = await settledArchive(api, detail.body.visits!.items.at(-1)!.id, 120_000);
      expect([name, visit.status, visit.error]).toEqual([name, 'completed', null]);
    }

    // Again with forks and archived ones and no globs: the first three are already tracked.
    const again = await settledImport(
      await startImport({
        forge: 'gitea',
        baseUrl: `${giteaUrl}/`,
        owner: org,
        token: token.token,
        includeForks: true,
        includeArchived: true,
      }),
    );
    expect(outcomes(again)).toEqual({
      'api-public': 'already_tracked',
      'api-private': 'already_tracked',
      'web-private': 'already_tracked',
      'web-skip': 'tracked',
      docs: 'tracked',
      'api-archived': 'tracked',
      'api-fork': 'tracked',
    });
    expect(await trackedNames()).toEqual(['api-archived', 'api-fork', 'api-private', 'api-public', 'docs', 'web-private', 'web-skip']);
    // One row per repository and import, however the job ran.
    expect(await prisma.repositoryImportItem.count({ where: { importId: again.id } })).toBe(7);

    const listed = await call<ImportPageView>(api, 'GET', '/api/imports');
    expect(listed.body.items.map((i) => i.id)).toEqual([again.id, first.id]);

    // import.finished reached the requester's endpoint, once per import.
    const finished = await waitFor('import.finished deliveries', async () => {
      const mine = receiver.bodies.filter((b) => b.event === 'import.finished');
      return mine.length >= 2 ? mine : undefined;
    });
    expect(finished.map((b) => b.details)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ importId: first.id, state: 'completed', total: 7, tracked: 3, failed: 0 }),
        expect.objectContaining({ importId: again.id, state: 'completed', total: 7, tracked: 7 }),
      ]),
    );

    // Audited, without the token; and the token is in no answer nor in the database in clear.
    const audit = await prisma.auditEvent.findMany({ where: { action: 'import.create', targetId: { in: [first.id, again.id] } } });
    expect(audit).toHaveLength(2);
    expect(JSON.stringify(audit)).not.toContain(token.token);
    expect(answers.join('\n')).not.toContain(token.token);
    const rows = await prisma.repositoryImport.findMany({ where: { id: { in: [first.id, again.id] } } });
    expect(rows.every((row) => row.token !== null && !row.token.includes(token.token))).toBe(true);
  });

  it('answers 404 for someone else’s import, and lists only one’s own', async () => {
    const id = await startImport({ forge: 'gitea', baseUrl: giteaUrl, owner: org, include: 'docs' });
    const seen = await call<{ error: { code: string } }>(stranger, 'GET', `/api/imports/${id}`);
    expect([seen.status, seen.body.error.code]).toEqual([404, 'NOT_FOUND']);
    expect((await call<ImportPageView>(stranger, 'GET', '/api/imports')).body.items).toEqual([]);
    await settledImport(id);
  });

  it('fails an import whose token the forge refuses with FORGE_AUTH_FAILED, and one of an unknown owner with FORGE_NOT_FOUND', async () => {
    const refused = await settledImport(await startImport({ forge: 'gitea', baseUrl: giteaUrl, owner: org, token: 'not-a-real-token' }));
    expect(refused).toMatchObject({ state: 'failed', errorCode: 'FORGE_AUTH_FAILED', items: [] });
    expect(refused.error).toMatch(/refused the request \(HTTP 401\)/);
    const unknown = await settledImport(await startImport({ forge: 'gitea', baseUrl: giteaUrl, owner: uniqueName('nobody') }));
    expect(unknown).toMatchObject({ state: 'failed', errorCode: 'FORGE_NOT_FOUND' });
  });

  it('refuses a bad request with 400 and records nothing', async () => {
    const before = await prisma.repositoryImport.count({ where: { requestedBy: { in: subjects } } });
    for (const [json, code] of [
      // A private address that is not allowlisted: refused by the URL policy, nothing is sent there.
      [{ forge: 'gitea', baseUrl: 'http://10.20.30.40', owner: 'org' }, 'BLOCKED_BY_POLICY'],
      [{ forge: 'gitea', baseUrl: 'ftp://forge.example', owner: 'org' }, 'INVALID_URL'],
      [{ forge: 'bitbucket', baseUrl: giteaUrl, owner: 'org' }, 'INVALID_REQUEST'],
      [{ forge: 'gitea', baseUrl: giteaUrl, owner: '../etc' }, 'INVALID_REQUEST'],
      [{ forge: 'gitea', baseUrl: giteaUrl, owner: 'org', include: '' }, 'INVALID_REQUEST'],
      [{ forge: 'gitea', baseUrl: giteaUrl, owner: 'org', includeForks: 'yes' }, 'INVALID_REQUEST'],
      [{ forge: 'gitea', baseUrl: giteaUrl, owner: 'org', password: 'x' }, 'INVALID_REQUEST'],
    ] as const) {
      const answer = await call<{ error: { code: string } }>(api, 'POST', '/api/imports', json);
      expect([JSON.stringify(json), answer.status, answer.body.error?.code]).toEqual([JSON.stringify(json), 400, code]);
    }
    expect(await prisma.repositoryImport.count({ where: { requestedBy: { in: subjects } } })).toBe(before);
  });
});

import { Queue } from 'bullmq';
import { loadConfig, loadStackSettings } from '@archiver/config';
import { ArchiveRepository, PrismaService } from '@archiver/database';
import { QueueName, redisOptions } from '@archiver/queue';
import { ObjectStoreRepository } from '@archiver/storage';
import {
  ApiClient,
  type ApiErrorBody,
  type ApiRequestOptions,
  type ArchiveView,
  decodeJwt,
  type FrontendOnly,
  type GitHttpServerHandle,
  KeycloakTestClient,
  startFrontendOnly,
  stopFrontendOnly,
  type TestUser,
  uniqueName,
} from '@archiver/testing';

// Submitting through the REST API of a real frontend process, against the test stack's Postgres,
// Redis, MinIO and Keycloak with real tokens. No injector or worker runs here, so every archive
// stays `pending` with its job waiting on queue "pending". Reading and removing archives:
// api-archives.int-spec.ts.

describe('REST API: submitting archives', () => {
  const config = loadConfig();
  const stack = loadStackSettings();
  const prisma = new PrismaService(config);
  const archives = new ArchiveRepository(prisma);
  const store = new ObjectStoreRepository(config.minio);
  const pendingQueue = new Queue(QueueName.Pending, { connection: redisOptions(config.redis.url, 'producer') });
  const keycloak = KeycloakTestClient.fromEnvironment();

  let stage: FrontendOnly | undefined;
  let git: GitHttpServerHandle;
  const tokens: Record<'demo' | 'admin' | 'fresh' | 'roleless', string> = {} as never;
  let demoSubject: string;
  // A user of this file only: counting their rows proves "nothing recorded" even while other tests run.
  let fresh: TestUser;
  let roleless: TestUser;

  let client: ApiClient;
  const api = (method: string, route: string, options?: ApiRequestOptions) => client.call(method, route, options);
  const submit = (url: string, token = tokens.demo) => api('POST', '/api/archives', { token, json: { url } });
  const rowsOf = (subject: string) => prisma.archive.count({ where: { requestedBy: subject } });
  const repoUrl = (name: string) => git.url(`${name}-${uniqueName('r')}`);

  beforeAll(async () => {
    stage = await startFrontendOnly(pendingQueue, 'api');
    ({ git, client } = stage);
    fresh = await keycloak.createUser({ username: uniqueName('fresh'), realmRoles: ['archiver-user'] });
    roleless = await keycloak.createUser({ username: uniqueName('no-role') });
    [tokens.demo, tokens.admin, tokens.fresh, tokens.roleless] = await Promise.all([
      keycloak.passwordToken(stack.demo.username, stack.demo.password),
      keycloak.passwordToken(stack.admin.username, stack.admin.password),
      keycloak.passwordToken(fresh.username, fresh.password),
      keycloak.passwordToken(roleless.username, roleless.password),
    ]);
    demoSubject = decodeJwt(tokens.demo).claims.sub as string;
  });

  afterAll(() => stopFrontendOnly(stage, { prisma, store, pendingQueue, keycloak }));

  describe('POST /api/archives', () => {
    it('records a pending archive for the token subject, queues it on "pending" and answers 202', async () => {
      const url = git.url('multi');
      const response = await submit(url);

      expect(response.status).toBe(202);
      const archive = response.body as ArchiveView;
      expect(archive).toMatchObject({
        url,
        normalizedUrl: url.replace(/\.git$/, ''),
        status: 'pending',
        requestedBy: demoSubject,
        existing: false,
        injectedAt: null,
        startedAt: null,
        finishedAt: null,
        durations: { waitMs: null, injectMs: null, runMs: null, totalMs: null },
        attempts: 0,
        error: null,
        bucket: null,
        consoleUrl: null,
      });
      expect(Date.parse(archive.createdAt as string)).toBeGreaterThan(Date.now() - 60_000);

      const row = await archives.findById(archive.id);
      expect(row).toMatchObject({ status: 'pending', requestedBy: demoSubject, normalizedUrl: archive.normalizedUrl });
      const job = await pendingQueue.getJob(archive.id);
      expect(job?.data).toEqual({ archiveId: archive.id });
    });

    it('answers 200 with the same archive when it is submitted again while active', async () => {
      const url = repoUrl('again');
      const first = await submit(url);
      // Another spelling of the same repository: no .git, a trailing slash.
      const second = await submit(url.replace(/\.git$/, '/'));

      expect(first.status).toBe(202);
      expect(second.status).toBe(200);
      expect((second.body as ArchiveView).id).toBe((first.body as ArchiveView).id);
      expect((second.body as ArchiveView).existing).toBe(true);
    });

    it('collapses 8 concurrent identical submissions into one archive', async () => {
      const url = repoUrl('race');
      const responses = await Promise.all(Array.from({ length: 8 }, () => submit(url)));

      expect(new Set(responses.map((r) => (r.body as ArchiveView).id)).size).toBe(1);
      expect(responses.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 202]);
      expect(await prisma.archive.count({ where: { normalizedUrl: url.replace(/\.git$/, '') } })).toBe(1);
    });

    it.each<[string, () => Parameters<typeof api>[2], number, string, RegExp]>([
      ['an ftp URL', () => ({ json: { url: 'ftp://x' } }), 400, 'INVALID_URL', /only https:\/\/ and http:\/\//],
      ['a file URL', () => ({ json: { url: 'file:///etc/passwd' } }), 400, 'INVALID_URL', /only https:\/\/ and http:\/\//],
      ['credentials in the URL', () => ({ json: { url: 'https://user:pw@host/x' } }), 400, 'INVALID_URL', /user name or password/],
      ['the metadata address', () => ({ json: { url: 'http://169.254.169.254/x' } }), 400, 'BLOCKED_BY_POLICY', /link-local/],
      ['a private address', () => ({ json: { url: 'http://10.0.0.1/x' } }), 400, 'BLOCKED_BY_POLICY', /private/],
      ['a 3000-character URL', () => ({ json: { url: `https://host/${'a'.repeat(3000)}` } }), 400, 'INVALID_URL', /longer than 2048/],
      ['control characters', () => ({ json: { url: `${git.url('multi')}\u0000\r\nX: y` } }), 400, 'INVALID_URL', /control characters/],
      [
        'an ssh address with an option as host',
        () => ({ json: { url: 'git@-oProxyCommand=x:owner/repo.git' } }),
        400,
        'INVALID_URL',
        /option/,
      ],
      ['an empty URL', () => ({ json: { url: '' } }), 400, 'INVALID_URL', /empty/],
      ['a missing body', () => ({}), 400, 'INVALID_REQUEST', /JSON object like \{"url"/],
      ['a url that is not a string', () => ({ json: { url: 42 } }), 400, 'INVALID_REQUEST', /url: must be a string/],
      ['a misspelt field', () => ({ json: { uri: 'https://host/x.git' } }), 400, 'INVALID_REQUEST', /Unknown field "uri"/],
      ['a JSON array', () => ({ json: ['https://host/x.git'] }), 400, 'INVALID_REQUEST', /JSON object/],
      [
        'broken JSON',
        () => ({ body: '{"url": ', headers: { 'content-type': 'application/json' } }),
        400,
        'INVALID_REQUEST',
        /not valid JSON/,
      ],
      [
        'a form post',
        () => ({ body: 'url=https://host/x.git', headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
        415,
        'UNSUPPORTED_MEDIA_TYPE',
        /Content-Type: application\/json/,
      ],
      [
        'text/plain',
        () => ({ body: '{"url":"https://host/x.git"}', headers: { 'content-type': 'text/plain' } }),
        415,
        'UNSUPPORTED_MEDIA_TYPE',
        /application\/json/,
      ],
      ['a 70 KB body', () => ({ json: { url: 'x'.repeat(70 * 1024) } }), 413, 'PAYLOAD_TOO_LARGE', /larger than 65536 bytes/],
      ['a 200 KB body', () => ({ json: { url: 'x'.repeat(200 * 1024) } }), 413, 'PAYLOAD_TOO_LARGE', /larger than/],
    ])('refuses %s with a clear error and records nothing', async (_name, request, status, code, message) => {
      const before = await rowsOf(fresh.id);
      const response = await api('POST', '/api/archives', { token: tokens.fresh, ...request() });

      expect(response.status).toBe(status);
      expect(response.headers.get('content-type')).toMatch(/application\/json/);
      expect(response.body).toEqual({ error: { code, message: expect.stringMatching(message) } });
      expect(await rowsOf(fresh.id)).toBe(before);
    });
  });

  describe('POST /api/archives/batch', () => {
    it('answers 202 with a result per URL: records for good ones, errors for the rest', async () => {
      const good = repoUrl('batch-a');
      const another = repoUrl('batch-b');
      const before = await rowsOf(fresh.id);
      const response = await api('POST', '/api/archives/batch', {
        token: tokens.fresh,
        json: { urls: [good, 'ftp://x', good, 'http://10.0.0.1/x', another] },
      });

      expect(response.status).toBe(202);
      const items = (response.body as { items: Array<{ url: string; archive?: ArchiveView; existing?: boolean; error?: unknown }> }).items;
      expect(items.map((i) => i.url)).toEqual([good, 'ftp://x', good, 'http://10.0.0.1/x', another]);
      expect(items[1]).toEqual({ url: 'ftp://x', error: { code: 'INVALID_URL', message: expect.any(String) } });
      expect(items[3]).toEqual({ url: 'http://10.0.0.1/x', error: { code: 'BLOCKED_BY_POLICY', message: expect.any(String) } });
      // The duplicate collapses into one archive, whichever of the two got there first.
      expect(items[0].archive?.id).toBe(items[2].archive?.id);
      expect([items[0].existing, items[2].existing].sort()).toEqual([false, true]);
      expect(items[4]).toMatchObject({ existing: false, archive: { status: 'pending', url: another } });
      expect(await rowsOf(fresh.id)).toBe(before + 2);
      expect((await pendingQueue.getJob(items[4].archive!.id))?.data).toEqual({ archiveId: items[4].archive!.id });
    });

    it.each<[string, unknown, RegExp]>([
      ['no URLs', { urls: [] }, /at least one/],
      ['101 URLs', { urls: Array.from({ length: 101 }, (_, i) => `https://host/${i}.git`) }, /at most 100/],
      ['a non-string URL', { urls: ['https://host/x.git', null] }, /urls\.1/],
      ['a single url field', { url: 'https://host/x.git' }, /urls/],
    ])('refuses %s as a whole with 400 and records nothing', async (_name, json, message) => {
      const before = await rowsOf(fresh.id);
      const response = await api('POST', '/api/archives/batch', { token: tokens.fresh, json });
      expect(response.status).toBe(400);
      expect(response.body).toEqual({ error: { code: 'INVALID_REQUEST', message: expect.stringMatching(message) } });
      expect(await rowsOf(fresh.id)).toBe(before);
    });
  });

  describe('authentication', () => {
    it('answers 401 with a JSON error without a token or with a bad one, and 403 without archiver-user', async () => {
      const missing = await api('GET', '/api/archives');
      expect(missing.status).toBe(401);
      expect(missing.body).toEqual({ error: { code: 'UNAUTHENTICATED', message: expect.stringContaining('Authorization: Bearer') } });
      const garbage = await api('GET', '/api/archives', { token: 'garbage' });
      expect(garbage.status).toBe(401);
      expect((garbage.body as ApiErrorBody).error.code).toBe('UNAUTHENTICATED');
      const roleless = await api('GET', '/api/archives', { token: tokens.roleless });
      expect(roleless.status).toBe(403);
      expect(roleless.body).toEqual({ error: { code: 'FORBIDDEN', message: expect.stringContaining('archiver-user') } });
    });

    it('checks the token before the body: 401 without one, 403 without the role, and nothing recorded', async () => {
      for (const route of ['/api/archives', '/api/archives/batch']) {
        const response = await api('POST', route, { body: 'x', headers: { 'content-type': 'text/plain' } });
        expect(response.status).toBe(401);
      }
      const forbidden = await api('POST', '/api/archives', { token: tokens.roleless, json: { url: repoUrl('no-role') } });
      expect(forbidden.status).toBe(403);
      expect(await rowsOf(roleless.id)).toBe(0);
      expect((await api('GET', '/api/stats')).status).toBe(401);
      expect((await api('GET', '/api/archives/00000000-0000-4000-8000-000000000000', { token: 'garbage' })).status).toBe(401);
    });

    it('serves /health and the API docs without a token', async () => {
      expect((await api('GET', '/health')).status).toBe(200);
      const docs = await api('GET', '/api/docs');
      expect(docs.status).toBe(200);
      expect(docs.text).toMatch(/swagger/i);
      const spec = await api('GET', '/api/docs-json');
      expect(spec.status).toBe(200);
      const document = spec.body as { paths: Record<string, unknown>; components: { schemas: Record<string, unknown> } };
      expect(Object.keys(document.paths)).toEqual(
        expect.arrayContaining(['/api/archives', '/api/archives/batch', '/api/archives/{id}', '/api/archives/{id}/download', '/api/stats']),
      );
      expect(Object.keys(document.components.schemas)).toEqual(expect.arrayContaining(['ArchiveView', 'ApiErrorView', 'StatsView']));
    });
  });
});

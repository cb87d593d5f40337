import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { loadConfig, loadStackSettings } from '@archiver/config';
import { PrismaService } from '@archiver/database';
import { QueueName, redisOptions } from '@archiver/queue';
import { ObjectStoreRepository } from '@archiver/storage';
import {
  ApiClient,
  type AppProcess,
  apiOperations,
  createFixtureRepos,
  describeForgedFailure,
  type ForgedExchange,
  forgedAnswerProblems,
  forgedRequests,
  type GitHttpServerHandle,
  KeycloakTestClient,
  MULTI_FIXTURE_PATHS,
  type OpenApiDocument,
  removeRepositoriesUnder,
  sendForged,
  settledArchive,
  startApp,
  startGitHttpServer,
  type SweptOperation,
  tearDown,
  waitUntilNoConsumer,
} from '@archiver/testing';

// Forged input against every route the app's own OpenAPI document declares, as a user and as an
// admin, on the real frontend with real tokens: whatever the input, the answer is a 4xx (or a
// success) with a JSON error a person can act on — never a 5xx, a hang, a trace or a crash. New
// routes are swept as soon as they are documented.

/** One answer may take this long; the frontend answers forged input at once, but shares 2 cores. */
const ANSWER_BOUND_MS = 10_000;
const CONCURRENCY = 8;
/** Enough for every route's cases, small enough that the sweep stays a couple of minutes. */
const MAX_REQUESTS_PER_USER = 4000;

describe('REST API: forged input on every documented route', () => {
  const config = loadConfig();
  const stack = loadStackSettings();
  const prisma = new PrismaService(config);
  const store = new ObjectStoreRepository(config.minio);
  const pendingQueue = new Queue(QueueName.Pending, { connection: redisOptions(config.redis.url, 'producer') });
  const keycloak = KeycloakTestClient.fromEnvironment();

  let workDir: string | undefined;
  let git: GitHttpServerHandle | undefined;
  let frontend: AppProcess | undefined;
  let client: ApiClient;
  const tokens = { demo: '', admin: '' };
  /** Resources of the demo user, so that forged query and path parts of GET routes reach past "not found". */
  const existing: Record<'archive' | 'repository' | 'webhook', string | undefined> = {
    archive: undefined,
    repository: undefined,
    webhook: undefined,
  };
  let operations: SweptOperation[] = [];

  beforeAll(async () => {
    await waitUntilNoConsumer(pendingQueue);
    workDir = await mkdtemp(path.join(tmpdir(), 'archiver-sweep-'));
    const repos = await createFixtureRepos(workDir);
    git = await startGitHttpServer({ root: repos.root });
    // No rate limits: a 429 before validation would hide what the forged input meets behind it.
    frontend = await startApp('frontend', { SUBMISSIONS_PER_MINUTE: '0', ADMIN_SUBMISSIONS_PER_MINUTE: '0', PUSH_HOOKS_PER_MINUTE: '0' });
    client = new ApiClient(frontend.url);
    [tokens.demo, tokens.admin] = await Promise.all([
      keycloak.passwordToken(stack.demo.username, stack.demo.password),
      keycloak.passwordToken(stack.admin.username, stack.admin.password),
    ]);

    // A tracked repository whose first visit completed: forged paths and queries then reach the
    // snapshot's objects in MinIO. The injector and worker stop again before the sweep, so the
    // archives it submits stay pending and nothing is cloned.
    const pipeline = [await startApp('injector'), await startApp('worker', { ARCHIVER_WORK_DIR: path.join(workDir, 'worker') })];
    try {
      const tracked = await client.call<{ id: string; lastVisit: { archiveId: string } | null }>('POST', '/api/repositories', {
        token: tokens.demo,
        json: { url: git.url('multi') },
      });
      expect({ status: tracked.status, body: tracked.body }).toMatchObject({ status: 201 });
      existing.repository = tracked.body.id;
      const visit = await settledArchive(new ApiClient(frontend.url, tokens.demo), tracked.body.lastVisit!.archiveId);
      expect(visit).toMatchObject({ status: 'completed', error: null });
      existing.archive = visit.id;
    } finally {
      await Promise.all(pipeline.map((app) => app.stop()));
    }
    const webhook = await client.call<{ id: string }>('POST', '/api/webhooks', {
      token: tokens.demo,
      json: { url: `${git.baseUrl}/hook`, events: ['visit.failed'] },
    });
    expect({ status: webhook.status, body: webhook.body }).toMatchObject({ status: 201 });
    existing.webhook = webhook.body.id;

    const docs = await client.call<OpenApiDocument>('GET', '/api/docs-json', { token: null });
    expect(docs.status).toBe(200);
    operations = apiOperations(docs.body);
  });

  afterAll(async () => {
    await tearDown({
      apps: [frontend],
      cleanUp: async () => {
        if (!git) return;
        await prisma.webhookEndpoint.deleteMany({ where: { url: { startsWith: `${git.baseUrl}/` } } });
        await removeRepositoriesUnder(`${git.baseUrl}/`, { prisma, store, queues: [pendingQueue] });
      },
      close: [() => git?.stop(), () => store.close(), () => keycloak.cleanup(), () => pendingQueue.close(), () => prisma.$disconnect()],
      dirs: [workDir],
    });
  });

  /** The demo user's resource a route's `{id}` names, by the route's prefix; a stored file for `{path}`. */
  const existingValue = (operation: SweptOperation, param: string): string | undefined => {
    if (param === 'path') return MULTI_FIXTURE_PATHS.unicode.split('/').map(encodeURIComponent).join('/');
    if (param !== 'id') return undefined;
    if (operation.path.startsWith('/api/archives/{id}')) return existing.archive;
    if (operation.path.startsWith('/api/repositories/{id}')) return existing.repository;
    if (operation.path.startsWith('/api/webhooks/{id}')) return existing.webhook;
    return undefined;
  };

  it('finds the routes to sweep in the OpenAPI document', () => {
    const names = operations.map((operation) => `${operation.method} ${operation.path}`);
    expect(names.length).toBeGreaterThan(20);
    expect(names).toEqual(
      expect.arrayContaining(['POST /api/archives', 'GET /api/archives/{id}', 'PATCH /api/repositories/{id}', 'GET /api/audit']),
    );
    expect(
      operations.find((operation) => operation.path === '/api/archives' && operation.method === 'POST')?.body?.properties,
    ).toHaveProperty('url');
  });

  it('answers forged input on every route with a 4xx JSON error (or a success), in time, as a user and as an admin', async () => {
    expect(operations.length).toBeGreaterThan(0);
    const requests = operations.flatMap((operation) => forgedRequests(operation, { url: git!.url('sweep-nothing'), existingValue }));
    expect(requests.length).toBeLessThan(MAX_REQUESTS_PER_USER);

    const exchanges: ForgedExchange[] = [];
    for (const as of ['demo', 'admin'] as const) {
      const options = { token: tokens[as], as, concurrency: CONCURRENCY, timeoutMs: ANSWER_BOUND_MS };
      exchanges.push(...(await sendForged(frontend!.url, requests, options)));
    }

    expect(exchanges).toHaveLength(requests.length * 2);
    // Every route let the admin past its guards at least once: a token the app stopped accepting
    // would otherwise make the sweep a thousand 401s that all pass.
    const stoppedAtTheDoor = operations.filter(
      (operation) =>
        !exchanges.some(
          (exchange) =>
            exchange.as === 'admin' &&
            exchange.request.operation === `${operation.method} ${operation.path}` &&
            ![401, 403].includes(exchange.status ?? 0),
        ),
    );
    expect(stoppedAtTheDoor.map((operation) => `${operation.method} ${operation.path}`)).toEqual([]);
    // The sweep must have reached validation, not stopped at the door.
    expect(exchanges.filter((exchange) => exchange.status === 400).length).toBeGreaterThan(requests.length / 4);
    const failures = exchanges.flatMap((exchange) => {
      const problems = forgedAnswerProblems(exchange, ANSWER_BOUND_MS);
      return problems.length > 0 ? [describeForgedFailure(exchange, problems)] : [];
    });
    if (failures.length > 0) {
      throw new Error(`${failures.length} of ${exchanges.length} answers to forged input broke the rule:\n${failures.join('\n')}`);
    }
  });

  it('is still healthy after the sweep, and logged no crash', async () => {
    const health = await fetch(`${frontend!.url}/health`, { signal: AbortSignal.timeout(5000) });
    expect(health.status).toBe(200);
    expect(frontend!.child.exitCode).toBeNull();
    expect(frontend!.output()).not.toMatch(/Maximum call stack|RangeError|[Uu]nhandled ?[Rr]ejection|uncaughtException/);
  });
});

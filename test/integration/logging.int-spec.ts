import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadStackSettings } from '@archiver/config';
import {
  ApiClient,
  AppProcess,
  createFixtureRepos,
  GitHttpServerHandle,
  KeycloakTestClient,
  settledArchive,
  startApp,
  startGitHttpServer,
} from '@archiver/testing';

type Line = Record<string, unknown> & { level: string; time: string; app: string; msg?: string };

/** Every line the process printed, parsed; a line that is not a JSON object fails the test. */
function linesOf(app: AppProcess): Line[] {
  return app
    .output()
    .split('\n')
    .filter((text) => text !== '')
    .map((text) => {
      let line: unknown;
      try {
        line = JSON.parse(text);
      } catch {
        throw new Error(`${app.name} printed a line that is not JSON: ${text}`);
      }
      if (typeof line !== 'object' || line === null || Array.isArray(line)) throw new Error(`${app.name} printed ${text}`);
      return line as Line;
    });
}

/**
 * The app's lines once `done` holds for them: a line reaches the pipe a little after the
 * response it belongs to (the access line is written when the response has finished).
 */
async function linesWhen(app: AppProcess, done: (lines: Line[]) => boolean, timeoutMs = 10_000): Promise<Line[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lines = linesOf(app);
    if (done(lines)) return lines;
    if (Date.now() > deadline) return lines; // the assertions that follow say what is missing
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
const hasAccessLine = (reqId: unknown) => (lines: Line[]) => lines.some((line) => line.reqId === reqId && line.msg === 'request completed');

/** The lines from the first one matching `first` to the next one matching `last`, both included. */
function between(lines: Line[], first: (line: Line) => boolean, last: (line: Line) => boolean): Line[] {
  const start = lines.findIndex(first);
  expect(start).toBeGreaterThanOrEqual(0);
  const end = lines.findIndex((line, index) => index > start && last(line));
  expect(end).toBeGreaterThan(start);
  return lines.slice(start, end + 1);
}

// The real apps' stdout: pino lines with request ids on HTTP requests and archive ids on jobs.
describe('logs of the running apps', () => {
  const stack = loadStackSettings();
  const keycloak = KeycloakTestClient.fromEnvironment();
  const apps: Partial<Record<'frontend' | 'injector' | 'worker', AppProcess>> = {};
  const tokens = { demo: '', admin: '' };
  let scratch: string;
  let git: GitHttpServerHandle;
  let demo: ApiClient;
  let admin: ApiClient;
  let archiveId: string;
  let submitRequestId: string;

  beforeAll(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'archiver-logging-'));
    git = await startGitHttpServer({ root: (await createFixtureRepos(scratch)).root });
    // debug: health probes and the jobs' start and end lines are logged at debug.
    const debug = { LOG_LEVEL: 'debug' };
    apps.frontend = await startApp('frontend', debug);
    apps.injector = await startApp('injector', debug);
    apps.worker = await startApp('worker', { ...debug, ARCHIVER_WORK_DIR: path.join(scratch, 'work') });
    [tokens.demo, tokens.admin] = await Promise.all([
      keycloak.passwordToken(stack.demo.username, stack.demo.password),
      keycloak.passwordToken(stack.admin.username, stack.admin.password),
    ]);
    demo = new ApiClient(apps.frontend.url, tokens.demo);
    admin = new ApiClient(apps.frontend.url, tokens.admin);
  });

  afterAll(async () => {
    await Promise.all(Object.values(apps).map((app) => app.stop()));
    await git?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('answers a request with its id, and binds it to the request’s access line', async () => {
    submitRequestId = `it-${process.pid}-submit`;
    const res = await demo.call<{ id: string }>('POST', '/api/archives', {
      json: { url: git.url('multi') },
      headers: { 'x-request-id': submitRequestId },
    });
    expect(res.status).toBe(202);
    expect(res.headers.get('x-request-id')).toBe(submitRequestId);
    archiveId = res.body.id;
    const access = (await linesWhen(apps.frontend!, hasAccessLine(submitRequestId))).filter((line) => line.reqId === submitRequestId);
    expect(access).toEqual([
      expect.objectContaining({
        level: 'info',
        app: 'frontend',
        msg: 'request completed',
        method: 'POST',
        path: '/api/archives',
        route: '/api/archives',
        status: 202,
        durationMs: expect.any(Number),
      }),
    ]);
  });

  it.each([
    ['no id', {}],
    ['an id with a newline and JSON', { 'x-request-id': 'x\\n{"level":"fatal"}' }],
    ['an id too long', { 'x-request-id': 'a'.repeat(129) }],
  ])('gives a request sent with %s a new UUID', async (_case, headers) => {
    const res = await demo.call('GET', '/api/archives?pageSize=3', { headers });
    expect(res.status).toBe(200);
    const id = res.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const access = (await linesWhen(apps.frontend!, hasAccessLine(id))).filter((line) => line.reqId === id);
    expect(access).toEqual([expect.objectContaining({ level: 'info', method: 'GET', path: '/api/archives', status: 200 })]);
  });

  it('binds the archive id and queue to every line of its jobs, in the injector and the worker', async () => {
    const done = await settledArchive(demo, archiveId);
    expect(done.status).toBe('completed');

    const ofJob = (queue: string) => (msg: string) => (line: Line) =>
      line.msg === msg && line.archiveId === archiveId && line.queue === queue;
    // The archive reads completed before the worker has finished the job (it still updates
    // latest/ and gives its mirror back), so wait for the job's last line.
    const ended = (queue: string) => (lines: Line[]) => lines.some(ofJob(queue)('job ended'));
    const worker = between(await linesWhen(apps.worker!, ended('archive')), ofJob('archive')('job started'), ofJob('archive')('job ended'));
    expect(worker.map((line) => line.msg)).toContain('archived');
    // Every line in between is the job's, except lines of other queues' jobs the worker may run
    // meanwhile (a webhook delivery an earlier test left retrying): those carry their own queue.
    const ofOtherQueues = (line: Line) => typeof line.queue === 'string' && line.queue !== 'archive';
    for (const line of worker.filter((l) => !ofOtherQueues(l))) {
      expect(line).toMatchObject({ app: 'worker', archiveId, queue: 'archive', attempt: 1 });
    }

    const injector = between(
      await linesWhen(apps.injector!, ended('pending')),
      ofJob('pending')('job started'),
      ofJob('pending')('job ended'),
    );
    expect(injector.map((line) => line.msg)).toContain('injected');
    // The reconciler may log on its own schedule; the job's classes must carry the ids.
    const jobLines = injector.filter((line) => ['InjectProcessor', 'InjectService'].includes(line.context as string));
    expect(jobLines.length).toBeGreaterThanOrEqual(3);
    for (const line of jobLines) expect(line).toMatchObject({ app: 'injector', archiveId, queue: 'pending', attempt: 1 });
  });

  it('gives every line of one request the same id: the one in the response', async () => {
    const res = await admin.call('DELETE', `/api/archives/${archiveId}`);
    expect(res.status).toBe(204);
    const id = res.headers.get('x-request-id');
    expect(id).toBeTruthy();
    const frontend = await linesWhen(apps.frontend!, hasAccessLine(id));
    const request = between(
      frontend,
      (line) => line.reqId === id,
      (line) => line.reqId === id && line.msg === 'request completed',
    );
    // Requests here are one at a time, so nothing else is logged in between.
    expect(request.map((line) => line.reqId)).toEqual(request.map(() => id));
    expect(request.map((line) => line.msg)).toContain('deleted archive');
    expect(request.at(-1)).toMatchObject({ method: 'DELETE', route: '/api/archives/:id', status: 204 });
    expect(frontend.filter((line) => line.reqId === id)).toHaveLength(request.length);
  });

  it('logs health probes at debug, without query strings', async () => {
    const res = await fetch(`${apps.worker!.url}/health?token=not-in-logs`);
    expect(res.status).toBe(200);
    const id = res.headers.get('x-request-id');
    const lines = await linesWhen(apps.worker!, hasAccessLine(id));
    expect(lines.filter((line) => line.reqId === id)).toEqual([expect.objectContaining({ level: 'debug', path: '/health', status: 200 })]);
  });

  it('prints only JSON lines with level, time and app, and never a token, a cookie or a query string', async () => {
    await demo.call('GET', '/api/archives?pageSize=2', { headers: { cookie: `KEYCLOAK_SESSION=${tokens.admin}` } });
    for (const app of Object.values(apps)) {
      const lines = linesOf(app);
      expect(lines.length).toBeGreaterThan(10);
      for (const line of lines) {
        expect(line).toMatchObject({ app: app.name, level: expect.stringMatching(/^(trace|debug|info|warn|error|fatal)$/) });
        expect(new Date(line.time).toISOString()).toBe(line.time);
      }
      const output = app.output();
      for (const token of Object.values(tokens)) {
        expect(output).not.toContain(token);
        expect(output).not.toContain(token.split('.')[2]);
      }
      expect(output).not.toContain('not-in-logs');
      expect(output).not.toContain('pageSize');
    }
  });

  it('exits with 78 and one fatal JSON line on an invalid setting, before Nest starts', () => {
    const main = path.resolve(__dirname, '../../dist/apps/worker/apps/worker/src/main.js');
    const child = spawnSync(process.execPath, [main], {
      env: { ...process.env, REDIS_URL: 'localhost:6379' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(child.status).toBe(78);
    expect(child.stdout).toBe('');
    const lines = child.stderr.split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({ level: 'fatal', app: 'worker', msg: expect.stringContaining('REDIS_URL') });
  });
});

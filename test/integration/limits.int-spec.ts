import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import { loadConfig, loadStackSettings } from '@archiver/config';
import { redisOptions } from '@archiver/queue';
import {
  ApiClient,
  AppProcess,
  createFixtureRepos,
  GitHttpServerHandle,
  KeycloakTestClient,
  settledArchive,
  startApp,
  startGitHttpServer,
  tearDown,
  uniqueName,
} from '@archiver/testing';

type ErrorBody = { error: { code: string; message: string } };

// Per-user limits on the real stack: the submission rate is one budget per user across routes
// and across two frontend processes (counted in Redis), admins have their own; tracked
// repositories and stored bytes have quotas with errors that say what to do.
describe('rate limits and quotas', () => {
  const stack = loadStackSettings();
  const keycloak = KeycloakTestClient.fromEnvironment();
  const apps: AppProcess[] = [];
  const limits = {
    SUBMISSIONS_PER_MINUTE: '5',
    ADMIN_SUBMISSIONS_PER_MINUTE: '0',
    MAX_TRACKED_REPOSITORIES_PER_USER: '2',
    USER_STORED_BYTES_QUOTA: '1',
  };
  let http: GitHttpServerHandle;
  let scratch: string;
  let frontends: [AppProcess, AppProcess];

  /** A fresh user, so no other test's submissions count against this one. */
  const newUser = async () => {
    const user = await keycloak.createUser({ username: uniqueName('limits'), realmRoles: ['archiver-user'] });
    const token = await keycloak.passwordToken(user.username, user.password);
    return frontends.map((frontend) => new ApiClient(frontend.url, token)) as [ApiClient, ApiClient];
  };

  beforeAll(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'archiver-limits-'));
    const fixtures = await createFixtureRepos(path.join(scratch, 'fixtures'));
    http = await startGitHttpServer({ root: fixtures.root });
    frontends = [await startApp('frontend', limits), await startApp('frontend', limits)];
    apps.push(...frontends, await startApp('injector'), await startApp('worker', { ARCHIVER_WORK_DIR: path.join(scratch, 'work') }));
  });

  afterAll(() => tearDown({ apps, close: [() => keycloak.cleanup(), () => http?.stop()], dirs: [scratch] }));

  it('holds one submission budget per user across routes and across two frontend processes', async () => {
    const [a, b] = await newUser();
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await (i % 2 ? b : a).call('POST', '/api/archives', { json: { url: http.url(`nowhere-${i}`) } })).status);
    // Tracking a repository is a submission too: the fifth.
    statuses.push((await b.call('POST', '/api/repositories', { json: { url: http.url('trunk') } })).status);
    expect(statuses).toEqual([202, 202, 202, 202, 201]);

    for (const client of [a, b]) {
      const refused = await client.call<ErrorBody>('POST', '/api/archives/batch', { json: { urls: [http.url('nowhere-x')] } });
      expect(refused.status).toBe(429);
      expect(refused.body.error).toMatchObject({
        code: 'RATE_LIMITED',
        message: expect.stringMatching(/more than 5 times in a minute.*try again in \d+ s/),
      });
      const retryAfter = Number(refused.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
    }
    // Reading is never limited.
    expect((await a.call('GET', '/api/archives')).status).toBe(200);
  });

  it('keeps counting when Redis has forgotten the counting script (a restart, SCRIPT FLUSH)', async () => {
    const [a, b] = await newUser();
    // Queues commands until connected (the producer settings refuse them while connecting).
    const redis = new Redis({ ...redisOptions(loadConfig().redis.url, 'producer'), enableOfflineQueue: true });
    try {
      const submit = async (client: ApiClient, i: number) =>
        (await client.call('POST', '/api/archives', { json: { url: http.url(`flushed-${i}`) } })).status;
      const statuses = [await submit(a, 0), await submit(b, 1)];
      // Both frontends have sent the script by now; a restarted Redis knows none of it.
      await redis.script('FLUSH');
      for (let i = 2; i < 7; i++) statuses.push(await submit(i % 2 ? b : a, i));
      expect(statuses).toEqual([202, 202, 202, 202, 202, 429, 429]);
    } finally {
      redis.disconnect();
    }
  });

  it('gives admins their own budget (none here)', async () => {
    const admin = new ApiClient(frontends[1].url, await keycloak.passwordToken(stack.admin.username, stack.admin.password));
    for (let i = 0; i < 8; i++) {
      expect((await admin.call('POST', '/api/archives', { json: { url: http.url(`admin-nowhere-${i}`) } })).status).toBe(202);
    }
  });

  it('caps the repositories a user tracks; tracking one already tracked still answers', async () => {
    const [a] = await newUser();
    expect((await a.call('POST', '/api/repositories', { json: { url: http.url('tracked-1') } })).status).toBe(201);
    expect((await a.call('POST', '/api/repositories', { json: { url: http.url('tracked-2') } })).status).toBe(201);
    const third = await a.call<ErrorBody>('POST', '/api/repositories', { json: { url: http.url('tracked-3') } });
    expect(third.status).toBe(429);
    expect(third.body.error).toMatchObject({ code: 'TRACKED_LIMIT', message: expect.stringContaining('stop tracking one') });
    expect((await a.call('POST', '/api/repositories', { json: { url: http.url('tracked-1') } })).status).toBe(200);
  });

  it('refuses new work once a user’s archives hold the stored-bytes quota', async () => {
    const [a] = await newUser();
    // A repository nobody archived before in this file: its visit stores content (an unchanged one would not count).
    const first = await a.call<{ id: string }>('POST', '/api/archives', { json: { url: http.url('multi') } });
    expect(first.status).toBe(202);
    expect((await settledArchive(a, first.body.id)).status).toBe('completed');
    const refused = await a.call<ErrorBody>('POST', '/api/archives', { json: { url: http.url('trunk') } });
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatchObject({ code: 'QUOTA_EXCEEDED', message: expect.stringContaining('your quota is 1 B') });
  });
});

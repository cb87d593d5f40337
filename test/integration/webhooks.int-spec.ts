import { createHmac, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { loadConfig, loadStackSettings } from '@archiver/config';
import { QueueName, redisOptions } from '@archiver/queue';
import {
  ApiClient,
  AppProcess,
  closeAll,
  createFixtureRepos,
  fixtureGit,
  GitHttpServerHandle,
  KeycloakTestClient,
  settledArchive,
  startApp,
  startGitHttpServer,
  uniqueName,
  waitFor,
} from '@archiver/testing';

interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  raw: Buffer;
  body: {
    id: string;
    event: string;
    createdAt: string;
    repository: { id: string; url: string } | null;
    archive?: { id: string };
    details: Record<string, unknown>;
  };
}
interface Webhook {
  id: string;
  url: string;
  events: string[];
  secretSet: boolean;
  secret?: string;
}
interface Delivery {
  id: string;
  event: string;
  status: string;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  repositoryId: string | null;
}
interface Visit {
  id: string;
  status: string;
  createdAt: string;
}

/** A receiver on loopback: records every request; `/fail/...` answers 500, anything else 204. */
async function startReceiver(): Promise<{ url: (p: string) => string; received: Received[]; stop: () => Promise<void> }> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      received.push({ path: req.url ?? '', headers: req.headers, raw, body: JSON.parse(raw.toString('utf8')) });
      res.statusCode = req.url?.startsWith('/fail') ? 500 : 204;
      res.end(req.url?.startsWith('/fail') ? 'receiver broken' : undefined);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (p) => `http://127.0.0.1:${port}${p}`,
    received,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const hmacHex = (secret: string, body: Buffer | string) => createHmac('sha256', secret).update(body).digest('hex');

// Notifications out and push webhooks in, on the real stack: a loopback receiver gets signed
// deliveries for a failed visit and a force-push, a failing receiver is retried then recorded
// as failed, private targets are refused when not allowlisted; forge-signed push events queue a
// visit (with a cooldown) and anything unsigned or wrongly signed gets 401 and changes nothing.
describe('webhooks', () => {
  const stack = loadStackSettings();
  const keycloak = KeycloakTestClient.fromEnvironment();
  const apps: AppProcess[] = [];
  let git: GitHttpServerHandle;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let frontend: AppProcess;
  let owner: ApiClient;
  let other: ApiClient;
  let admin: ApiClient;
  let scratch: string;
  let upstream: string;

  const waitForDelivery = (what: string, match: (r: Received) => boolean, timeoutMs = 60_000) =>
    waitFor(what, async () => receiver.received.find(match), timeoutMs);
  const createWebhook = async (client: ApiClient, json: Record<string, unknown>) => {
    const response = await client.call<Webhook>('POST', '/api/webhooks', { json });
    expect(response.status).toBe(201);
    return response.body;
  };
  const track = async (url: string) => {
    const response = await owner.call<{ id: string; lastVisit: { archiveId: string } }>('POST', '/api/repositories', { json: { url } });
    expect(response.status).toBe(201);
    return response.body;
  };
  const visitsOf = async (repositoryId: string) =>
    (await owner.call<{ visits: { items: Visit[]; total: number } }>('GET', `/api/repositories/${repositoryId}?visitsPageSize=100`)).body
      .visits;
  const expectSigned = (delivery: Received, secret: string) => {
    expect(delivery.headers['x-archiver-signature-256']).toBe(`sha256=${hmacHex(secret, delivery.raw)}`);
    expect(delivery.headers['x-archiver-event']).toBe(delivery.body.event);
    expect(delivery.headers['x-archiver-delivery']).toMatch(/^[0-9a-f-]{36}$/);
    expect(delivery.headers['content-type']).toBe('application/json');
  };

  beforeAll(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'archiver-webhooks-'));
    const fixtures = await createFixtureRepos(path.join(scratch, 'fixtures'));
    upstream = path.join(fixtures.root, 'rewritten.git');
    await fixtureGit(['clone', '--quiet', '--bare', fixtures.multi, upstream], scratch);
    git = await startGitHttpServer({ root: fixtures.root });
    receiver = await startReceiver();
    // Delivery jobs take their attempts and backoff from whoever queues them (the worker for
    // events, the frontend for pings): both get the short test settings.
    const deliveries = { WEBHOOK_MAX_ATTEMPTS: '3', WEBHOOK_BACKOFF_MS: '200', WEBHOOK_TIMEOUT_SECONDS: '5' };
    frontend = await startApp('frontend', { PUSH_HOOK_COOLDOWN_SECONDS: '3', ...deliveries });
    apps.push(
      frontend,
      await startApp('injector'),
      await startApp('worker', {
        ARCHIVER_WORK_DIR: path.join(scratch, 'work'),
        ...deliveries,
      }),
    );
    const [ownerUser, otherUser] = await Promise.all(
      ['hooks-owner', 'hooks-other'].map((name) => keycloak.createUser({ username: uniqueName(name), realmRoles: ['archiver-user'] })),
    );
    owner = new ApiClient(frontend.url, await keycloak.passwordToken(ownerUser!.username, ownerUser!.password));
    other = new ApiClient(frontend.url, await keycloak.passwordToken(otherUser!.username, otherUser!.password));
    admin = new ApiClient(frontend.url, await keycloak.passwordToken(stack.admin.username, stack.admin.password));
  });

  afterAll(async () => {
    try {
      await Promise.all(apps.map((app) => app.stop()));
    } finally {
      await closeAll(git?.stop(), receiver?.stop(), scratch ? rm(scratch, { recursive: true, force: true }) : undefined);
    }
  });

  it('delivers a signed visit.failed and refs.force_pushed / refs.branch_deleted to the owner’s and an admin’s endpoints', async () => {
    const mine = await createWebhook(owner, {
      url: receiver.url('/owner'),
      events: ['visit.failed', 'refs.force_pushed', 'refs.branch_deleted', 'repository.recovered'],
    });
    expect(mine.secret).toMatch(/^whsec_[\w-]{43}$/);
    const everyone = await createWebhook(admin, {
      url: receiver.url('/admin'),
      events: ['visit.failed'],
      allRepositories: true,
      secret: 'admin-chosen-secret-0123',
    });
    expect(everyone.secret).toBe('admin-chosen-secret-0123');
    // The secret is shown once: never by the reads.
    const read = await owner.call<Webhook>('GET', `/api/webhooks/${mine.id}`);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ id: mine.id, secretSet: true });
    expect(JSON.stringify(read.body)).not.toContain(mine.secret);
    expect(JSON.stringify((await owner.call('GET', '/api/webhooks')).body)).not.toContain(mine.secret);

    // A repository that is not there: its first visit fails (NOT_FOUND).
    const missing = await track(git.url('no-such-repository.git'));
    expect(await settledArchive(owner, missing.lastVisit.archiveId)).toMatchObject({ status: 'failed' });
    const failed = await waitForDelivery(
      'visit.failed at the owner’s endpoint',
      (r) => r.path === '/owner' && r.body.repository?.id === missing.id,
    );
    expectSigned(failed, mine.secret!);
    expect(failed.body).toMatchObject({
      event: 'visit.failed',
      repository: { id: missing.id },
      archive: { id: missing.lastVisit.archiveId, status: 'failed', errorCode: 'NOT_FOUND' },
      details: { code: 'NOT_FOUND' },
    });
    const toAdmin = await waitForDelivery(
      'visit.failed at the admin’s endpoint',
      (r) => r.path === '/admin' && r.body.repository?.id === missing.id,
    );
    expectSigned(toAdmin, everyone.secret!);
    // One event, two endpoints: the same event id, each its own delivery id.
    expect(toAdmin.body.id).toBe(failed.body.id);
    expect(toAdmin.headers['x-archiver-delivery']).not.toBe(failed.headers['x-archiver-delivery']);

    // A force-push and a branch deletion between two visits.
    const rewritten = await track(git.url('rewritten.git'));
    expect(await settledArchive(owner, rewritten.lastVisit.archiveId)).toMatchObject({ status: 'completed' });
    const oldFeature = (await fixtureGit(['rev-parse', 'feature/x'], upstream)).toString().trim();
    const oldRelease = (await fixtureGit(['rev-parse', 'release'], upstream)).toString().trim();
    const newFeature = (await fixtureGit(['commit-tree', 'feature/x^{tree}', '-m', 'history rewritten'], upstream)).toString().trim();
    await fixtureGit(['update-ref', 'refs/heads/feature/x', newFeature], upstream);
    await fixtureGit(['update-ref', '-d', 'refs/heads/release'], upstream);
    const second = await settledArchive(owner, (await owner.submit(git.url('rewritten.git'))).id);
    expect(second).toMatchObject({ status: 'completed' });
    const forced = await waitForDelivery(
      'refs.force_pushed',
      (r) => r.body.event === 'refs.force_pushed' && r.body.repository?.id === rewritten.id,
    );
    expectSigned(forced, mine.secret!);
    expect(forced.body.details).toEqual({ refs: [{ name: 'refs/heads/feature/x', oldSha: oldFeature, newSha: newFeature }] });
    expect(forced.body.archive).toMatchObject({ id: second.id, status: 'completed', outcome: 'changed' });
    const deleted = await waitForDelivery(
      'refs.branch_deleted',
      (r) => r.body.event === 'refs.branch_deleted' && r.body.repository?.id === rewritten.id,
    );
    expect(deleted.body.details).toEqual({ refs: [{ name: 'refs/heads/release', oldSha: oldRelease }] });
    // The admin's endpoint subscribes to visit.failed only.
    expect(receiver.received.filter((r) => r.path === '/admin' && r.body.repository?.id === rewritten.id)).toEqual([]);

    // The owner sees each delivery as delivered, with the receiver's status.
    const deliveries = await waitFor('three delivered rows', async () => {
      const page = (await owner.call<{ items: Delivery[]; total: number }>('GET', `/api/webhooks/${mine.id}/deliveries`)).body;
      return page.items.length === 3 && page.items.every((d) => d.status === 'delivered') ? page : undefined;
    });
    expect(deliveries.items.map((d) => [d.event, d.attempts, d.lastStatusCode, d.lastError])).toEqual(
      expect.arrayContaining([
        ['visit.failed', 1, 204, null],
        ['refs.force_pushed', 1, 204, null],
        ['refs.branch_deleted', 1, 204, null],
      ]),
    );
    // Someone else's endpoint does not exist for them.
    expect((await other.call('GET', `/api/webhooks/${mine.id}`)).status).toBe(404);
    expect((await other.call('GET', `/api/webhooks/${mine.id}/deliveries`)).status).toBe(404);
    expect((await other.call('DELETE', `/api/webhooks/${mine.id}`)).status).toBe(404);
  });

  it('retries a receiver that answers 500, then records the delivery failed with the status, never delivered', async () => {
    const failing = await createWebhook(owner, { url: receiver.url('/fail/ping'), events: ['visit.failed'] });
    const ping = await owner.call<Delivery>('POST', `/api/webhooks/${failing.id}/test`);
    expect(ping.status).toBe(202);
    expect(ping.body).toMatchObject({ event: 'ping', status: 'pending' });
    const final = await waitFor('the delivery to fail for good', async () => {
      const page = (await owner.call<{ items: Delivery[] }>('GET', `/api/webhooks/${failing.id}/deliveries`)).body;
      return page.items.find((d) => d.id === ping.body.id && d.status !== 'pending');
    });
    expect(final).toMatchObject({ status: 'failed', attempts: 3, lastStatusCode: 500 });
    expect(final.lastError).toMatch(/HTTP 500/);
    const attempts = receiver.received.filter((r) => r.headers['x-archiver-delivery'] === ping.body.id);
    expect(attempts).toHaveLength(3);
    // Every attempt sends the very same signed bytes.
    for (const attempt of attempts) {
      expectSigned(attempt, failing.secret!);
      expect(attempt.raw.equals(attempts[0]!.raw)).toBe(true);
    }
    expect(attempts[0]!.body).toMatchObject({ event: 'ping', repository: null, details: { endpointId: failing.id } });

    // A rotated secret is returned once and signs from then on; the old one no longer does.
    const rotated = await owner.call<Webhook>('PATCH', `/api/webhooks/${failing.id}`, {
      json: { rotateSecret: true, url: receiver.url('/ok/ping') },
    });
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(failing.secret);
    const again = await owner.call<Delivery>('POST', `/api/webhooks/${failing.id}/test`);
    const delivered = await waitForDelivery('the ping after rotation', (r) => r.headers['x-archiver-delivery'] === again.body.id);
    expectSigned(delivered, rotated.body.secret!);
    expect((await owner.call('DELETE', `/api/webhooks/${failing.id}`)).status).toBe(204);
    expect((await owner.call('GET', `/api/webhooks/${failing.id}`)).status).toBe(404);
  });

  it('queues a delivery again when its job was lost (Redis lost it after the row was written), and delivers it once', async () => {
    const endpoint = await createWebhook(owner, { url: receiver.url('/ok/lost'), events: ['visit.failed'] });
    const deliveries = new Queue(QueueName.WebhookDelivery, { connection: redisOptions(loadConfig().redis.url, 'producer') });
    let reconciler: AppProcess | undefined;
    try {
      // Paused, no worker takes the job; removing it leaves the row pending with no job, as a
      // Redis outage between the row and the job (or a wiped Redis) does.
      await deliveries.pause();
      const ping = await owner.call<Delivery>('POST', `/api/webhooks/${endpoint.id}/test`);
      expect(ping.status).toBe(202);
      await waitFor('the ping job', async () => ((await deliveries.getJob(ping.body.id)) ? true : undefined));
      await deliveries.remove(ping.body.id);
      await deliveries.resume();
      expect(await deliveries.getJob(ping.body.id)).toBeUndefined();

      reconciler = await startApp('injector', { RECONCILE_INTERVAL_SECONDS: '1' });
      const delivered = await waitForDelivery('the lost ping, queued again', (r) => r.headers['x-archiver-delivery'] === ping.body.id);
      expectSigned(delivered, endpoint.secret!);
      const final = await waitFor('the delivery recorded delivered', async () => {
        const page = (await owner.call<{ items: Delivery[] }>('GET', `/api/webhooks/${endpoint.id}/deliveries`)).body;
        return page.items.find((d) => d.id === ping.body.id && d.status !== 'pending');
      });
      expect(final).toMatchObject({ status: 'delivered', attempts: 1 });
      // Later passes find it final and queue nothing more.
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      expect(receiver.received.filter((r) => r.headers['x-archiver-delivery'] === ping.body.id)).toHaveLength(1);
    } finally {
      await deliveries.resume().catch(() => undefined);
      await reconciler?.stop();
      await deliveries.close();
      await owner.call('DELETE', `/api/webhooks/${endpoint.id}`);
    }
  });

  it('validates endpoints: clear 400s, admins only for every repository, private addresses refused unless allowlisted', async () => {
    for (const json of [
      { url: receiver.url('/x') },
      { url: receiver.url('/x'), events: [] },
      { url: receiver.url('/x'), events: ['visit.exploded'] },
      { url: receiver.url('/x'), events: ['visit.failed', 'visit.failed'] },
      { url: 'ftp://example.org/hook', events: ['visit.failed'] },
      { url: receiver.url('/x'), events: ['visit.failed'], secret: 'short' },
      { url: receiver.url('/x'), events: ['visit.failed'], extra: 1 },
    ]) {
      const refused = await owner.call<{ error: { code: string; message: string } }>('POST', '/api/webhooks', { json });
      expect([refused.status, refused.body.error.code]).toEqual([400, expect.stringMatching(/INVALID_REQUEST|INVALID_URL/)]);
      expect(refused.body.error.message.length).toBeGreaterThan(10);
    }
    const notAdmin = await owner.call('POST', '/api/webhooks', {
      json: { url: receiver.url('/x'), events: ['visit.failed'], allRepositories: true },
    });
    expect(notAdmin.status).toBe(403);

    // A frontend whose allowlist does not include loopback refuses the loopback receiver, and private networks.
    const strict = await startApp('frontend', { ARCHIVER_ALLOWED_HOSTS: '' });
    apps.push(strict);
    const strictOwner = new ApiClient(strict.url, await keycloak.passwordToken(stack.demo.username, stack.demo.password));
    const before = (await strictOwner.call<{ total: number }>('GET', '/api/webhooks')).body.total;
    for (const url of [receiver.url('/ok'), 'http://10.1.2.3/hook', 'http://[::1]:9/hook', 'http://169.254.169.254/latest']) {
      const refused = await strictOwner.call<{ error: { code: string } }>('POST', '/api/webhooks', {
        json: { url, events: ['visit.failed'] },
      });
      expect([url, refused.status, refused.body.error.code]).toEqual([url, 400, 'BLOCKED_BY_POLICY']);
    }
    expect((await strictOwner.call<{ total: number }>('GET', '/api/webhooks')).body.total).toBe(before);
  });

  describe('push webhooks in', () => {
    let repositoryId: string;
    let secret: string;
    let hookPath: string;
    const event = Buffer.from(JSON.stringify({ ref: 'refs/heads/main', before: '0'.repeat(40), after: '1'.repeat(40), commits: [] }));
    const push = (headers: Record<string, string>, body: Buffer = event, id = repositoryId) =>
      fetch(`${frontend.url}/api/hooks/push/${id}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
        signal: AbortSignal.timeout(20_000),
      });
    const visitCount = async () => (await visitsOf(repositoryId)).total;
    /** Until the newest visit is older than the cooldown (3 s), so the next push may queue one. */
    const cooldownOver = () =>
      waitFor(
        'the push cooldown to pass',
        async () => {
          const newest = (await visitsOf(repositoryId)).items[0];
          return newest && Date.parse(newest.createdAt) + 3_200 < Date.now() ? true : undefined;
        },
        20_000,
        250,
      );
    const accepted = async (response: Response) => {
      expect(response.status).toBe(202);
      return (await response.json()) as { queued: boolean; reason?: string; archiveId?: string; verifiedBy: string };
    };

    beforeAll(async () => {
      const tracked = await track(git.url('trunk'));
      repositoryId = tracked.id;
      await settledArchive(owner, tracked.lastVisit.archiveId);
      expect((await owner.call<{ hookSecretSet: boolean }>('GET', `/api/repositories/${repositoryId}`)).body.hookSecretSet).toBe(false);
      const created = await owner.call<{ secret: string; hookUrl: string }>('POST', `/api/repositories/${repositoryId}/hook-secret`);
      expect(created.status).toBe(201);
      secret = created.body.secret;
      hookPath = new URL(created.body.hookUrl).pathname;
      expect(hookPath).toBe(`/api/hooks/push/${repositoryId}`);
      const shown = await owner.call('GET', `/api/repositories/${repositoryId}`);
      expect(shown.body).toMatchObject({ hookSecretSet: true });
      expect(shown.text).not.toContain(secret);
      // Someone who does not track it cannot make one.
      expect((await other.call('POST', `/api/repositories/${repositoryId}/hook-secret`)).status).toBe(404);
    });

    it('refuses unsigned, wrongly signed, wrong-token and unknown-repository hooks alike, changing nothing', async () => {
      const before = await visitCount();
      const wrong = hmacHex('not-the-secret-at-all', event);
      const cases: [string, Record<string, string>, string?][] = [
        ['unsigned', {}],
        ['GitHub, wrong secret', { 'x-github-event': 'push', 'x-hub-signature-256': `sha256=${wrong}` }],
        ['GitHub, missing prefix', { 'x-github-event': 'push', 'x-hub-signature-256': hmacHex(secret, event) }],
        [
          'Gitea, signature of other bytes',
          { 'x-gitea-event': 'push', 'x-gitea-signature': hmacHex(secret, Buffer.concat([event, Buffer.from(' ')])) },
        ],
        ['GitLab, wrong token', { 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': `${secret}x` }],
        ['unknown repository, correctly signed', { 'x-gitea-signature': hmacHex(secret, event) }, randomUUID()],
        ['not an id', { 'x-gitea-signature': hmacHex(secret, event) }, 'not-a-uuid'],
      ];
      const messages = new Set<string>();
      for (const [name, headers, id] of cases) {
        const response = await push(headers, event, id);
        const body = (await response.json()) as { error: { code: string; message: string } };
        expect([name, response.status, body.error.code]).toEqual([name, 401, 'HOOK_UNAUTHORIZED']);
        messages.add(body.error.message);
      }
      expect(messages.size).toBe(1);
      expect(await visitCount()).toBe(before);
    });

    it('queues a visit for a Gitea-, GitHub- and GitLab-authenticated push; the cooldown coalesces a burst', async () => {
      await cooldownOver();
      const before = await visitCount();
      const gitea = await accepted(await push({ 'x-gitea-event': 'push', 'x-gitea-signature': hmacHex(secret, event) }));
      expect(gitea).toMatchObject({ queued: true, verifiedBy: 'gitea' });
      expect(await visitCount()).toBe(before + 1);

      // A burst right after: each acknowledged, none queues another visit.
      const burst = await Promise.all(
        Array.from({ length: 5 }, () =>
          push({ 'x-github-event': 'push', 'x-hub-signature-256': `sha256=${hmacHex(secret, event)}` }).then(accepted),
        ),
      );
      for (const answer of burst)
        expect(answer).toMatchObject({ queued: false, reason: expect.stringMatching(/ago/), verifiedBy: 'github' });
      expect(await visitCount()).toBe(before + 1);

      await cooldownOver();
      expect(
        await accepted(await push({ 'x-github-event': 'push', 'x-hub-signature-256': `sha256=${hmacHex(secret, event)}` })),
      ).toMatchObject({
        queued: true,
        verifiedBy: 'github',
      });
      await cooldownOver();
      expect(await accepted(await push({ 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': secret }))).toMatchObject({
        queued: true,
        verifiedBy: 'gitlab',
      });
      expect(await visitCount()).toBe(before + 3);
      // A signed event that is not a push is acknowledged and queues nothing.
      await cooldownOver();
      expect(
        await accepted(await push({ 'x-github-event': 'ping', 'x-hub-signature-256': `sha256=${hmacHex(secret, event)}` })),
      ).toMatchObject({
        queued: false,
      });
      expect(await visitCount()).toBe(before + 3);
    });

    it('rate-limits hooks per repository, across callers, before checking signatures', async () => {
      const limited = await startApp('frontend', { PUSH_HOOKS_PER_MINUTE: '3' });
      apps.push(limited);
      const hit = async (id: string) => {
        const response = await fetch(`${limited.url}/api/hooks/push/${id}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: event,
          signal: AbortSignal.timeout(20_000),
        });
        return { status: response.status, retryAfter: response.headers.get('retry-after') };
      };
      const target = randomUUID();
      for (let i = 0; i < 3; i++) expect((await hit(target)).status).toBe(401);
      const over = await hit(target);
      expect(over.status).toBe(429);
      expect(Number(over.retryAfter)).toBeGreaterThan(0);
      // Another repository has its own budget.
      expect((await hit(randomUUID())).status).toBe(401);
    });

    it('refuses every hook once the secret is removed', async () => {
      expect((await owner.call('DELETE', `/api/repositories/${repositoryId}/hook-secret`)).status).toBe(204);
      expect((await owner.call<{ hookSecretSet: boolean }>('GET', `/api/repositories/${repositoryId}`)).body.hookSecretSet).toBe(false);
      await cooldownOver();
      const before = await visitCount();
      expect((await push({ 'x-gitea-signature': hmacHex(secret, event) })).status).toBe(401);
      expect((await push({ 'x-gitlab-token': secret })).status).toBe(401);
      expect(await visitCount()).toBe(before);
    });
  });
});

import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadStackSettings } from '@archiver/config';
import {
  ApiClient,
  AppProcess,
  closeAll,
  createFixtureRepos,
  GitHttpServerHandle,
  KeycloakTestClient,
  settledArchive,
  startApp,
  startGitHttpServer,
  waitFor,
} from '@archiver/testing';

interface AuditEvent {
  id: string;
  at: string;
  actor: { subject: string; name: string | null };
  action: string;
  target: { type: string; id: string | null };
  requestId: string | null;
  details: Record<string, unknown> | null;
}
interface AuditPage {
  items: AuditEvent[];
  total: number;
}

// The audit log on the real stack: every change made through the API lands once, with who,
// what, which request; refused or no-op requests leave nothing; only admins read it, filtered.
describe('audit log', () => {
  const stack = loadStackSettings();
  const keycloak = KeycloakTestClient.fromEnvironment();
  const apps: AppProcess[] = [];
  let http: GitHttpServerHandle;
  let demo: ApiClient;
  let admin: ApiClient;
  let scratch: string;
  let since: string;

  const audit = async (query: Record<string, string>) => {
    const response = await admin.call<AuditPage>('GET', `/api/audit?${new URLSearchParams({ from: since, pageSize: '100', ...query })}`);
    expect(response.status).toBe(200);
    return response.body;
  };

  beforeAll(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'archiver-audit-'));
    const fixtures = await createFixtureRepos(path.join(scratch, 'fixtures'));
    http = await startGitHttpServer({ root: fixtures.root });
    const frontend = await startApp('frontend');
    apps.push(frontend, await startApp('injector'), await startApp('worker', { ARCHIVER_WORK_DIR: path.join(scratch, 'work') }));
    demo = new ApiClient(frontend.url, await keycloak.passwordToken(stack.demo.username, stack.demo.password));
    admin = new ApiClient(frontend.url, await keycloak.passwordToken(stack.admin.username, stack.admin.password));
    since = new Date(Date.now() - 1000).toISOString();
  });

  afterAll(async () => {
    try {
      await Promise.all(apps.map((app) => app.stop()));
    } finally {
      await closeAll(http?.stop(), scratch ? rm(scratch, { recursive: true, force: true }) : undefined);
    }
  });

  it('records tracking, pausing, resuming, updating, untracking and purging, each once, with actor and request id', async () => {
    const url = http.url('trunk');
    const tracked = await demo.call<{ id: string }>('POST', '/api/repositories', {
      json: { url, intervalHours: 24 },
      headers: { 'x-request-id': 'audit-track-1' },
    });
    expect(tracked.status).toBe(201);
    const id = tracked.body.id;
    // Tracking again changes nothing: no second row.
    expect((await demo.call('POST', '/api/repositories', { json: { url } })).status).toBe(200);
    expect((await demo.call('PATCH', `/api/repositories/${id}`, { json: { state: 'paused' } })).status).toBe(200);
    expect((await demo.call('PATCH', `/api/repositories/${id}`, { json: { state: 'active' } })).status).toBe(200);
    expect((await demo.call('PATCH', `/api/repositories/${id}`, { json: { intervalHours: 48 } })).status).toBe(200);
    // The first visit settles before a credential is set: from then on the repository is private,
    // and its snapshots are for trackers whose credential worked (and admins).
    const repository = await demo.call<{ visits: { items: { id: string }[] } }>('GET', `/api/repositories/${id}`);
    for (const visit of repository.body.visits.items) await settledArchive(demo, visit.id);
    const token = 'audit-t0ps3cret-token-value';
    expect((await demo.call('PATCH', `/api/repositories/${id}`, { json: { credential: { kind: 'token', token } } })).status).toBe(200);
    expect((await demo.call('PATCH', `/api/repositories/${id}`, { json: { credential: null } })).status).toBe(200);
    // Refused requests change nothing and leave no row: a user may not purge.
    expect((await demo.call('DELETE', `/api/repositories/${id}?purge=true`)).status).toBe(403);
    expect((await demo.call('PATCH', `/api/repositories/${id}`, { json: { state: 'disabled' } })).status).toBe(400);

    expect((await demo.call('DELETE', `/api/repositories/${id}`)).status).toBe(204);
    await waitFor('no visit of the repository to be active', async () => {
      const { body } = await admin.call<{ visits: { items: { status: string }[] } }>('GET', `/api/repositories/${id}`);
      return body.visits.items.every((v) => v.status === 'completed' || v.status === 'failed') || undefined;
    });
    expect((await admin.call('DELETE', `/api/repositories/${id}?purge=true`)).status).toBe(202);

    const { items } = await audit({ targetId: id });
    expect(items.map((event) => event.action).reverse()).toEqual([
      'repository.track',
      'repository.pause',
      'repository.resume',
      'repository.update',
      'repository.credential_set',
      'repository.credential_remove',
      'repository.untrack',
      'repository.purge',
    ]);
    const [track] = items.slice(-1);
    expect(track).toMatchObject({
      actor: { name: stack.demo.username },
      target: { type: 'repository', id },
      requestId: 'audit-track-1',
      details: { url, intervalHours: 24 },
    });
    expect(items[0]).toMatchObject({ actor: { name: stack.admin.username }, details: { purge: 'true' } });
    expect(items.find((event) => event.action === 'repository.pause')?.details).toEqual({ state: 'paused' });
    // The credential's value is in no row.
    expect(JSON.stringify(items)).not.toContain(token);
  });

  it('filters by actor, action family and time, and pages', async () => {
    const mine = await audit({ actor: stack.demo.username, action: 'repository.*' });
    expect(mine.items.length).toBeGreaterThanOrEqual(5);
    expect(mine.items.every((event) => event.actor.name === stack.demo.username && event.action.startsWith('repository.'))).toBe(true);
    const purges = await audit({ action: 'repository.purge' });
    expect(purges.items.every((event) => event.action === 'repository.purge')).toBe(true);
    expect(purges.total).toBeGreaterThanOrEqual(1);
    const page = await audit({ pageSize: '2', page: '1' });
    expect(page.items).toHaveLength(2);
    expect(page.total).toBeGreaterThan(2);
    const future = await audit({ from: new Date(Date.now() + 3_600_000).toISOString() });
    expect(future).toMatchObject({ items: [], total: 0 });
  });

  it('is for admins only, and says what is wrong with a bad filter', async () => {
    expect((await demo.call('GET', '/api/audit')).status).toBe(403);
    for (const query of ['action=DROP%20TABLE', 'from=yesterday', 'from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z', 'pageSize=1000']) {
      const response = await admin.call<{ error: { code: string; message: string } }>('GET', `/api/audit?${query}`);
      expect([query, response.status]).toEqual([query, 400]);
      expect(response.body.error.message.length).toBeGreaterThan(10);
    }
  });
});

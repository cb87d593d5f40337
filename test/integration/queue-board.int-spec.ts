import { loadStackSettings } from '@archiver/config';
import { QueueName } from '@archiver/queue';
import { AppProcess, KeycloakTestClient, startApp } from '@archiver/testing';

// bull-board at /admin/queues on the real frontend and Keycloak: reachable with an admin's token
// handed over as the dashboard's cookie, and by nobody else — no cookie, a user's token, a
// forged or garbled one all stop at the middleware before bull-board sees the request.
describe('queue dashboard (bull-board)', () => {
  const stack = loadStackSettings();
  const keycloak = KeycloakTestClient.fromEnvironment();
  let frontend: AppProcess;
  let adminToken: string;
  let userToken: string;

  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${frontend.url}${path}`, { headers, redirect: 'manual', signal: AbortSignal.timeout(10_000) });
  const openSession = (token?: string) =>
    fetch(`${frontend.url}/api/admin/queue-board/session`, {
      method: 'POST',
      headers: token ? { authorization: `Bearer ${token}` } : {},
      signal: AbortSignal.timeout(10_000),
    });
  const cookieOf = (token: string) => ({ cookie: `other=1; archiver_queue_board=${token}` });

  beforeAll(async () => {
    frontend = await startApp('frontend');
    adminToken = await keycloak.passwordToken(stack.admin.username, stack.admin.password);
    userToken = await keycloak.passwordToken(stack.demo.username, stack.demo.password);
  });

  afterAll(async () => {
    await frontend?.stop();
  });

  it('hands an admin the dashboard cookie: HttpOnly, SameSite=Strict, scoped to /admin/queues, no longer than the token', async () => {
    const response = await openSession(adminToken);
    expect(response.status).toBe(204);
    const cookie = response.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^archiver_queue_board=[\w-]+\.[\w-]+\.[\w-]+; /);
    expect(cookie).toContain('Path=/admin/queues');
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    const maxAge = Number(/Max-Age=(\d+)/.exec(cookie)?.[1]);
    expect(maxAge).toBeGreaterThan(0);
    expect(maxAge).toBeLessThanOrEqual(300);
  });

  it('refuses the session to a user (403) and to nobody (401)', async () => {
    expect((await openSession(userToken)).status).toBe(403);
    expect((await openSession()).status).toBe(401);
  });

  it('serves the board and every queue to the admin cookie, under a CSP', async () => {
    const page = await get('/admin/queues', { ...cookieOf(adminToken), accept: 'text/html' });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('__UI_CONFIG__');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('x-frame-options')).toBe('DENY');

    const api = await get('/admin/queues/api/queues', cookieOf(adminToken));
    expect(api.status).toBe(200);
    const { queues } = (await api.json()) as { queues: { name: string }[] };
    expect(queues.map((q) => q.name).sort()).toEqual(Object.values(QueueName).sort());
  });

  it('lets nobody else in: no cookie, a user token, a garbled or forged one', async () => {
    const forged = `${adminToken.split('.').slice(0, 2).join('.')}.${Buffer.from('not the signature').toString('base64url')}`;
    const cases: [string, Record<string, string>, number][] = [
      ['no cookie', {}, 401],
      ['a user token', cookieOf(userToken), 403],
      ['garbage', cookieOf('garbage'), 401],
      ['a forged signature', cookieOf(forged), 401],
      ['the token as a bearer header only', { authorization: `Bearer ${adminToken}` }, 401],
    ];
    for (const [name, headers, status] of cases) {
      for (const path of ['/admin/queues/api/queues', '/admin/queues/api/queues/archive/retry/failed']) {
        const response = await get(path, headers);
        expect([name, path, response.status]).toEqual([name, path, status]);
        expect(await response.text()).not.toContain('"queues"');
      }
      // A page load goes through the web app, which renews the sign-in and comes back.
      const page = await get('/admin/queues', { ...headers, accept: 'text/html' });
      expect([name, page.status]).toEqual([name, status === 403 ? 403 : 303]);
      if (page.status === 303) expect(page.headers.get('location')).toBe('/admin?board=open');
    }
  });
});

import { mkdtemp } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  ApiClient,
  BrowserPages,
  createFixtureRepos,
  type GitHttpServerHandle,
  KeycloakTestClient,
  saveScreenshot,
  settledArchive,
  startGitHttpServer,
  tearDown,
  uniqueName,
  waitFor,
  WebApps,
} from '@archiver/testing';

type Login = { username: string; password: string };
interface Webhook {
  id: string;
  url: string;
}

/** A receiver on loopback that answers every delivery 500: each one is retried, then recorded failed. */
async function startBrokenReceiver(): Promise<{ url: (p: string) => string; hits: () => number; stop: () => Promise<void> }> {
  let hits = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      hits += 1;
      res.statusCode = 500;
      res.end('receiver broken');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (p) => `http://127.0.0.1:${port}${p}`,
    hits: () => hits,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * The Webhooks page (issue 13, item 4's web side), in real Chromium against the real stack: add
 * an endpoint (its generated secret shown once), see it listed, see the delivery a failed visit
 * caused (status, attempts, last error), delete it. The receiver listens on loopback, which the
 * test stack's URL policy allowlists (ARCHIVER_ALLOWED_HOSTS), as in webhooks.int-spec.
 */
describe('web interface: webhooks', () => {
  const keycloak = KeycloakTestClient.fromEnvironment();
  let publicUrl: string;
  let web: WebApps | undefined;
  let pages: BrowserPages;
  let scratch: string;
  let git: GitHttpServerHandle;
  let receiver: Awaited<ReturnType<typeof startBrokenReceiver>>;
  let login: Login;
  let api: ApiClient;

  beforeAll(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'archiver-e2e-webhooks-'));
    const fixtures = await createFixtureRepos(scratch);
    git = await startGitHttpServer({ root: fixtures.root });
    receiver = await startBrokenReceiver();
    // Short retries, for whoever queues deliveries (the worker for events, the frontend for pings).
    const deliveries = { WEBHOOK_MAX_ATTEMPTS: '2', WEBHOOK_BACKOFF_MS: '200', WEBHOOK_TIMEOUT_SECONDS: '5' };
    web = await WebApps.start({ frontendEnv: deliveries, workerEnv: deliveries, pages: { viewport: { width: 1280, height: 1000 } } });
    const { frontend } = web;
    ({ publicUrl, pages } = web);
    const user = await keycloak.createUser({ username: uniqueName('hooks'), realmRoles: ['archiver-user'] });
    login = { username: user.username, password: user.password };
    api = new ApiClient(frontend.url, () => keycloak.passwordToken(login.username, login.password));
  }, 120_000);

  afterEach(async () => {
    await pages?.closePages();
  });

  afterAll(() =>
    tearDown({ close: [() => web?.stop(), () => git?.stop(), () => receiver?.stop(), () => keycloak.cleanup()], dirs: [scratch] }),
  );

  it('adds an endpoint with a generated secret shown once, lists it, shows the failed delivery a failed visit caused, and deletes it', async () => {
    const { page, problems } = await pages.signedIn(login, '/');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Webhooks' }).click();
    await page.waitForURL(`${publicUrl}/webhooks`);
    await page.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
    await page.getByText('No webhooks yet').waitFor();

    const target = receiver.url(`/hooks/${uniqueName('e2e')}`);
    await page.getByLabel('Receiver URL').fill(target);
    expect(await page.getByLabel(/A visit failed/).isChecked()).toBe(true);
    await page.getByLabel(/A force-push was detected/).check();
    await page.getByRole('button', { name: 'Add webhook' }).click();
    const secret = (await page.getByTestId('webhook-secret').textContent())!;
    expect(secret).toMatch(/^whsec_/);
    await saveScreenshot(page, 'webhooks-secret-shown-once');
    await page.getByRole('button', { name: 'Done, I stored it' }).click();
    expect(await page.content()).not.toContain(secret);

    const entry = page.locator('article.webhook', { has: page.getByTestId('webhook-url').getByText(target, { exact: true }) });
    await entry.waitFor();
    expect(await entry.getByTestId('webhook-active').textContent()).toBe('Active');
    expect(await entry.getByTestId('webhook-events').textContent()).toBe('A visit failed · A force-push was detected');
    await entry.getByTestId('no-deliveries').waitFor();
    const [listed] = (await api.call<{ items: Webhook[] }>('GET', '/api/webhooks')).body.items;
    expect(listed).toMatchObject({ url: target });
    expect(JSON.stringify(listed)).not.toContain(secret);

    // A repository that is not there: its first visit fails, and the broken receiver fails its delivery.
    const tracked = await api.call<{ lastVisit: { archiveId: string } }>('POST', '/api/repositories', {
      json: { url: git.url(uniqueName('missing')) },
    });
    expect(tracked.status).toBe(201);
    expect(await settledArchive(api, tracked.body.lastVisit.archiveId)).toMatchObject({ status: 'failed' });
    const row = entry.locator('tr[data-status="failed"]');
    await row.waitFor({ timeout: 60_000 });
    const cells = await row.locator('td').allTextContents();
    expect(cells.slice(0, 3)).toEqual(['visit.failed', 'failed', '2']);
    expect(cells[3]).toMatch(/HTTP 500/);
    expect(receiver.hits()).toBeGreaterThanOrEqual(2);
    await saveScreenshot(page, 'webhooks-failed-delivery');

    page.once('dialog', (dialog) => void dialog.accept());
    await entry.getByRole('button', { name: 'Delete' }).click();
    await page.getByTestId('webhook-messages').getByText('is deleted').waitFor();
    await waitFor('the endpoint to leave the list', async () => ((await entry.count()) === 0 ? true : undefined));
    expect((await api.call<{ items: Webhook[] }>('GET', '/api/webhooks')).body.items).toEqual([]);
    expect(problems).toEqual([]);
  });

  it('explains a refused endpoint beside its field', async () => {
    const { page, problems } = await pages.signedIn(login, '/webhooks');
    await page.getByLabel('Receiver URL').fill('ftp://example.org/hook');
    await page.getByRole('button', { name: 'Add webhook' }).click();
    await page
      .getByTestId('webhook-url-error')
      .getByText(/http\(s\) URL/)
      .waitFor();
    await page.getByLabel('Receiver URL').fill(receiver.url('/hook'));
    await page.getByLabel(/A visit failed/).uncheck();
    await page.getByRole('button', { name: 'Add webhook' }).click();
    await page.getByText('Choose at least one event.').waitFor();
    expect((await api.call<{ items: Webhook[] }>('GET', '/api/webhooks')).body.items).toEqual([]);
    expect(problems).toEqual([]);
  });
});

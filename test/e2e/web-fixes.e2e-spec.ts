import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, loadStackSettings } from '@archiver/config';
import {
  type AppProcess,
  BrowserPages,
  createFixtureRepos,
  type GitHttpServerHandle,
  KeycloakTestClient,
  saveScreenshot,
  signInThroughKeycloak,
  startGitHttpServer,
  tearDown,
  uniqueName,
  userApi,
  type UserApi,
  waitFor,
  WebApps,
} from '@archiver/testing';

interface Archive {
  id: string;
  url: string;
  status: string;
  requestedByName: string | null;
}
type Login = { username: string; password: string };

const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

/**
 * What trying the web interface as a new user found (issue 10, item 6), each in real Chromium
 * against the real stack: built frontend on PUBLIC_URL, injector, worker, Keycloak, Postgres,
 * Redis, MinIO, and fixture repositories on loopback.
 */
describe('web interface: fixes found by a new user', () => {
  const config = loadConfig();
  const stack = loadStackSettings();
  const keycloak = KeycloakTestClient.fromEnvironment();
  let publicUrl: string;
  let frontend: AppProcess;
  let git: GitHttpServerHandle;
  let web: WebApps | undefined;
  let pages: BrowserPages;
  let api: UserApi;
  let tmp: string;

  async function submitted(user: Login, url: string): Promise<Archive> {
    const response = await api<Archive>(user, 'POST', '/api/archives', { url });
    expect([200, 202]).toContain(response.status);
    return response.body;
  }

  async function waitForTerminal(id: string, timeoutMs = 120_000): Promise<Archive> {
    return waitFor(
      `archive ${id} to finish`,
      async () => {
        const { body } = await api<Archive>(stack.admin, 'GET', `/api/archives/${id}`);
        return body.status === 'completed' || body.status === 'failed' ? body : undefined;
      },
      timeoutMs,
      500,
    );
  }

  /** A URL the fixture server answers "not found" for: accepted by the API, then failed by the worker. */
  const missingRepo = () => git.url(uniqueName('missing'));

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'archiver-web-fixes-'));
    const repos = await createFixtureRepos(tmp);
    git = await startGitHttpServer({ root: repos.root });
    web = await WebApps.start({ pages: { viewport: { width: 1280, height: 900 } } });
    ({ frontend, publicUrl, pages } = web);
    api = userApi(frontend.url, keycloak);
  }, 120_000);

  afterEach(async () => {
    await pages?.closePages();
  });

  afterAll(() => tearDown({ close: [() => web?.stop(), () => git?.stop(), () => keycloak.cleanup()], dirs: [tmp] }));

  it("shows an admin only their own archives under My archives, and everyone's with owner names under All archives", async () => {
    const [mine, demos] = await Promise.all([submitted(stack.admin, missingRepo()), submitted(stack.demo, missingRepo())]);
    expect(demos.requestedByName).toBe('demo');

    const { page, problems } = await pages.signedIn(stack.admin, '/archives');
    const ownRow = page.locator(`tr[data-id="${mine.id}"]`);
    await ownRow.waitFor();
    expect(await page.getByRole('heading', { name: 'My archives' }).count()).toBe(1);
    expect(await page.locator(`tr[data-id="${demos.id}"]`).count()).toBe(0);
    expect(await page.locator('th', { hasText: 'Requested by' }).count()).toBe(0);

    await page.getByRole('navigation', { name: 'Whose archives' }).getByRole('link', { name: 'All archives' }).click();
    await page.waitForURL(`${publicUrl}/archives?view=all`);
    const demoRow = page.locator(`tr[data-id="${demos.id}"]`);
    await demoRow.waitFor();
    expect(await page.getByRole('heading', { name: 'All archives' }).count()).toBe(1);
    expect(await demoRow.getByTestId('owner').textContent()).toBe('demo');
    expect(await page.locator(`tr[data-id="${mine.id}"]`).getByTestId('owner').textContent()).toBe('admin (you)');
    // The live list rewrites its own query parameters as it refreshes; the view must survive that,
    // so a reload or a shared link shows the same list.
    await page.locator('[data-testid="last-updated"]', { hasText: 'Live' }).waitFor();
    expect(new URL(page.url()).searchParams.get('view')).toBe('all');
    await page.reload();
    await page.locator(`tr[data-id="${demos.id}"]`).waitFor();
    expect(await page.getByRole('heading', { name: 'All archives' }).count()).toBe(1);
    await saveScreenshot(page, 'fixes-all-archives');
    expect(problems).toEqual([]);
  });

  it('offers no All archives view to a user who is not an admin', async () => {
    // The old address of the list (it was the home page) still finds it.
    const { page, problems } = await pages.signedIn(stack.demo, '/?view=all');
    await page.waitForURL((url) => url.pathname === '/archives');
    await page.getByTestId('last-updated').filter({ hasText: 'Live' }).waitFor();
    expect(await page.getByRole('heading', { name: 'My archives' }).count()).toBe(1);
    expect(await page.getByRole('navigation', { name: 'Whose archives' }).count()).toBe(0);
    expect(await page.locator('th', { hasText: 'Requested by' }).count()).toBe(0);
    expect(problems).toEqual([]);
  });

  it('retries a failed archive: its URL is submitted again and the new archive is shown', async () => {
    const failed = await waitForTerminal((await submitted(stack.demo, missingRepo())).id);
    expect(failed.status).toBe('failed');

    const { page, problems } = await pages.signedIn(stack.demo, `/archives/${failed.id}`);
    const retry = page.getByRole('button', { name: 'Retry' });
    await retry.waitFor();
    await retry.click();
    await page.waitForURL((url) => url.pathname.startsWith('/archives/') && !url.pathname.endsWith(failed.id));
    const newId = new URL(page.url()).pathname.split('/').pop()!;
    await page.getByText(failed.url, { exact: true }).waitFor();
    const retried = await api<Archive>(stack.demo, 'GET', `/api/archives/${newId}`);
    expect(retried.body).toMatchObject({ url: failed.url });
    // The failed archive stays as it was, with its reason.
    expect((await api<Archive>(stack.demo, 'GET', `/api/archives/${failed.id}`)).body.status).toBe('failed');
    expect(problems).toEqual([]);
  });

  it('offers Retry on a failed row of the archives list; the new archive appears as a row', async () => {
    const failed = await waitForTerminal((await submitted(stack.demo, missingRepo())).id);
    expect(failed.status).toBe('failed');
    const { page, problems } = await pages.signedIn(stack.demo, '/archives?status=failed');
    const row = page.locator(`tr[data-id="${failed.id}"]`);
    await row.getByTestId('retry').click();
    await page.getByLabel('Status').selectOption('');
    const rows = page.locator('tr[data-id]', { has: page.locator(`a[title="${failed.url}"]`) });
    await waitFor('the retried archive to be listed', async () => ((await rows.count()) === 2 ? true : undefined), 30_000, 250);
    // Rows of completed or active archives offer no Retry; the failed one keeps it.
    expect(await page.locator('tr[data-status="completed"] [data-testid="retry"]').count()).toBe(0);
    expect(await row.getByTestId('retry').count()).toBe(1);
    expect(problems).toEqual([]);
  });

  it('keeps batch results live, sums them up, and does not push the list out of view', async () => {
    const { page, problems } = await pages.signedIn(stack.demo, '/archives');
    await page.getByTestId('last-updated').filter({ hasText: 'Live' }).waitFor();
    const accepted = [git.url('trunk'), git.url('multi'), missingRepo()];
    const refused = Array.from({ length: 9 }, (_, i) => `ftp://example.org/refused-${i}.git`);
    await page.getByLabel('Repository URLs').fill([...accepted, ...refused].join('\n'));
    await page.getByRole('button', { name: 'Archive', exact: true }).click();

    await page.getByTestId('submit-summary').filter({ hasText: '3 accepted · 9 refused' }).waitFor();
    // Without a reload, each accepted archive's badge reaches its outcome.
    const statuses = page.getByTestId('submit-results').getByTestId('result-status');
    await waitFor(
      'the three accepted archives to show their outcome',
      async () => {
        const shown = await statuses.locator('[data-status]').evaluateAll((els) => els.map((el) => el.getAttribute('data-status')));
        return shown.sort().join(',') === 'completed,completed,failed' ? shown : undefined;
      },
      120_000,
      500,
    );

    const box = await page.getByTestId('submit-results').evaluate((el) => ({ client: el.clientHeight, scroll: el.scrollHeight }));
    expect(box.client).toBeLessThanOrEqual(260);
    expect(box.scroll).toBeGreaterThan(box.client);
    const listHeading = await page.getByRole('heading', { name: 'My archives' }).boundingBox();
    expect(listHeading!.y + listHeading!.height).toBeLessThanOrEqual(900);
    await saveScreenshot(page, 'fixes-batch-live');
    expect(problems).toEqual([]);
  }, 180_000);

  it('moves focus to the main content with the skip link', async () => {
    const { page, problems } = await pages.signedIn(stack.demo, '/archives');
    await page.getByTestId('last-updated').filter({ hasText: 'Live' }).waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('Skip to content');
    await page.keyboard.press('Enter');
    expect(await page.evaluate('document.activeElement?.id')).toBe('main');
    expect(new URL(page.url()).pathname).toBe('/archives');
    // The next Tab goes into the page's content, past the header's links.
    await page.keyboard.press('Tab');
    expect(await page.evaluate("document.activeElement?.closest('#main') !== null")).toBe(true);
    expect(problems).toEqual([]);
  });

  it("answers an unknown address with the app's own not-found page, and unknown API routes with JSON", async () => {
    const html = await fetch(`${frontend.url}/no/such/page`, { headers: { accept: BROWSER_ACCEPT } });
    expect(html.status).toBe(404);
    expect(html.headers.get('content-type')).toMatch(/^text\/html/);
    expect(html.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await html.text()).toContain('/assets/js/main.js');
    for (const [route, accept] of [
      ['/api/no-such-route', BROWSER_ACCEPT],
      ['/no/such/page', '*/*'],
      ['/no/such/page', 'application/json'],
    ]) {
      const json = await fetch(`${frontend.url}${route}`, { headers: { accept } });
      expect({ route, accept, status: json.status, body: await json.json() }).toMatchObject({
        status: 404,
        body: { error: { code: 'NOT_FOUND' } },
      });
    }

    const { page, problems } = await pages.signedIn(stack.demo, '/no/such/page');
    await page.getByRole('heading', { name: 'Page not found' }).waitFor();
    await page.getByRole('link', { name: 'Go to your archives' }).waitFor();
    await saveScreenshot(page, 'fixes-not-found');
    // The document's own 404 is the point here; nothing else may have gone wrong.
    expect(problems.filter((p) => !/^404 for document .*\/no\/such\/page$/.test(p))).toEqual([]);
  });

  it('keeps the typed URLs when the session expires and gives them back after signing in again', async () => {
    const { page, context, problems } = await pages.signedIn(stack.demo, '/archives');
    await page.getByTestId('last-updated').filter({ hasText: 'Live' }).waitFor();
    const typed = [git.url('trunk'), 'https://example.org/someone/else.git'];
    await page.getByLabel('Repository URLs').fill([...typed, 'https://user:secret@example.org/x.git'].join('\n'));

    // The Keycloak session ends (cookies gone): keycloak-js's session check sends the tab to the login page.
    await context.clearCookies();
    await page.waitForURL((url) => url.href.startsWith(`${config.keycloak.url}/realms/${config.keycloak.realm}/`), { timeout: 30_000 });
    await page.locator('#kc-form-login').waitFor();
    await signInThroughKeycloak(page, stack.demo, publicUrl);
    await page.getByRole('button', { name: 'Log out' }).waitFor();

    // What was typed is back, except the line with credentials, which never left memory.
    expect(await page.getByLabel('Repository URLs').inputValue()).toBe(typed.join('\n'));
    const stored = await page.evaluate<string>('JSON.stringify({ ...sessionStorage, ...localStorage })');
    expect(stored).not.toContain('secret');

    // Logging out forgets them, so the next person in this tab does not find them.
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL(`${publicUrl}/signed-out`);
    expect(await page.evaluate<number>('sessionStorage.length')).toBe(0);
    expect(problems).toEqual([]);
  });

  it('links to the API page from the navigation', async () => {
    const { page, problems } = await pages.signedIn(stack.demo, '/archives');
    const link = page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'API' });
    expect(await link.getAttribute('href')).toBe('/api/docs');
    await link.click();
    await page.waitForURL(`${publicUrl}/api/docs`);
    await page.locator('.swagger-ui .information-container').waitFor();
    expect(problems).toEqual([]);
  });

  it('signs in on the API page through Keycloak (Authorization Code + PKCE, archiver-web) and calls GET /api/archives', async () => {
    const { page, problems } = await pages.open();
    const docs = await page.goto(`${publicUrl}/api/docs`);
    expect(docs!.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.locator('button.authorize').first().click();
    const scheme = page.locator('.auth-container').filter({ hasText: 'keycloak' });
    await scheme.waitFor();
    // Prefilled with the public client; Swagger UI's optional client_secret field stays empty.
    expect(await scheme.locator('input[data-name=clientId]').inputValue()).toBe('archiver-web');
    expect(await scheme.locator('input[data-name=clientSecret]').inputValue()).toBe('');
    await saveScreenshot(page, 'fixes-api-docs-authorize');

    const tokenRequest = page.waitForRequest((r) => r.url().endsWith('/protocol/openid-connect/token') && r.method() === 'POST');
    const [popup] = await Promise.all([page.waitForEvent('popup'), scheme.locator('button.modal-btn.authorize').click()]);
    await popup.locator('#kc-form-login').waitFor();
    const authorize = new URL(popup.url());
    expect(authorize.searchParams.get('client_id')).toBe('archiver-web');
    expect(authorize.searchParams.get('response_type')).toBe('code');
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('redirect_uri')).toBe(`${publicUrl}/api/docs/oauth2-redirect.html`);
    await popup.locator('#username').fill(stack.demo.username);
    await popup.locator('#password').fill(stack.demo.password);
    await Promise.all([popup.waitForEvent('close', { timeout: 30_000 }), popup.locator('#kc-login').click()]);

    const exchange = new URLSearchParams((await tokenRequest).postData() ?? '');
    expect(exchange.get('grant_type')).toBe('authorization_code');
    expect(exchange.get('code_verifier')).toMatch(/^[A-Za-z0-9._~-]{43,128}$/);
    expect(exchange.has('client_secret')).toBe(false);
    expect((await tokenRequest).headers().authorization).toBeUndefined();
    const tokenResponse = await (await tokenRequest).response();
    expect(tokenResponse?.status()).toBe(200);
    await scheme.locator('button', { hasText: 'Logout' }).waitFor();
    await scheme.locator('button.btn-done').click();

    const operation = page.locator('.opblock-get').filter({ has: page.locator('[data-path="/api/archives"]') });
    await operation.locator('.opblock-summary').first().click();
    await operation.getByRole('button', { name: 'Try it out' }).click();
    const [response] = await Promise.all([
      page.waitForResponse((r) => new URL(r.url()).pathname === '/api/archives' && r.request().method() === 'GET'),
      operation.getByRole('button', { name: 'Execute' }).click(),
    ]);
    expect(response.status()).toBe(200);
    expect(response.request().headers().authorization).toMatch(/^Bearer eyJ/);
    await operation.locator('.live-responses-table .response-col_status').filter({ hasText: '200' }).first().waitFor();
    await saveScreenshot(page, 'fixes-api-docs-signed-in');
    // No token may outlive the page: nothing in web storage.
    expect(await page.evaluate<string>('JSON.stringify({ ...localStorage, ...sessionStorage })')).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/);
    expect(problems).toEqual([]);
  });
});

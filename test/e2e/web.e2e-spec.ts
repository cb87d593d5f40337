import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadConfig, loadStackSettings } from '@archiver/config';
import {
  type AppProcess,
  type ArchiveView,
  type BrowserLogin,
  BrowserPages,
  createFixtureRepos,
  type FixtureRepos,
  type GitHttpServerHandle,
  isKeycloakLoginPage,
  KeycloakTestClient,
  saveScreenshot,
  settledArchive,
  signInThroughKeycloak,
  startGitHttpServer,
  tearDown,
  type UserApi,
  userApiClient,
  WebApps,
} from '@archiver/testing';

const exec = promisify(execFile);

/**
 * The web interface in real Chromium against the real stack: the built frontend (on
 * PUBLIC_URL, the address registered for archiver-web in Keycloak), injector and worker, the
 * test stack's Keycloak, Postgres, Redis and MinIO, and fixture repositories on loopback.
 */
describe('web interface', () => {
  const config = loadConfig();
  const stack = loadStackSettings();
  const keycloak = KeycloakTestClient.fromEnvironment();
  const realm = config.keycloak.realm;
  let publicUrl: string;
  let frontend: AppProcess;
  let git: GitHttpServerHandle;
  let repos: FixtureRepos;
  let web: WebApps | undefined;
  let pages: BrowserPages;
  let tmp: string;

  const apiAs = (user: BrowserLogin) => userApiClient(frontend.url, keycloak, user);
  const api: UserApi = (user, method, route, json) => apiAs(user).call(method, route, { json });

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'archiver-web-e2e-'));
    repos = await createFixtureRepos(tmp);
    git = await startGitHttpServer({ root: repos.root });
    web = await WebApps.start({ pages: { viewport: { width: 1280, height: 860 }, acceptDownloads: true } });
    ({ frontend, publicUrl, pages } = web);
  }, 120_000);

  afterEach(async () => {
    await pages?.closePages();
  });

  afterAll(() => tearDown({ close: [() => web?.stop(), () => git?.stop()], dirs: [tmp] }));

  it('serves the page shell publicly with a strict Content-Security-Policy', async () => {
    const response = await fetch(`${frontend.url}/`);
    expect(response.status).toBe(200);
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain(`connect-src 'self' ${new URL(config.keycloak.url).origin}`);
    expect(csp).toContain(`frame-src ${new URL(config.keycloak.url).origin}`);
    expect(csp).not.toContain('unsafe-inline');
    const webConfig = await (await fetch(`${frontend.url}/config.json`)).json();
    expect(webConfig).toEqual({ keycloakUrl: config.keycloak.url, realm, clientId: 'archiver-web', apiBase: '/api' });
    expect((await fetch(`${frontend.url}/vendor/keycloak-js/keycloak.js`)).status).toBe(200);
  });

  it('sends an unauthenticated visitor to the Keycloak login page and brings demo back signed in', async () => {
    const { page, problems } = await pages.open();
    // Watched from the start: the page may show the form under another URL once Keycloak redirects.
    const authorizeRequest = page.waitForRequest((request) =>
      request.url().startsWith(`${config.keycloak.url}/realms/${realm}/protocol/openid-connect/auth`),
    );
    await page.goto(`${publicUrl}/`);
    await page.waitForURL((url) => url.href.startsWith(`${config.keycloak.url}/realms/${realm}/`));
    await page.locator('#kc-form-login').waitFor();
    expect(await isKeycloakLoginPage(page, config.keycloak.url, realm)).toBe(true);
    // The request Keycloak got was a PKCE code flow for the public web client.
    const authorize = new URL((await authorizeRequest).url());
    expect(authorize.searchParams.get('client_id')).toBe('archiver-web');
    expect(authorize.searchParams.get('response_type')).toBe('code');
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    await saveScreenshot(page, 'login-keycloak');

    await signInThroughKeycloak(page, stack.demo, publicUrl);
    await page.getByTestId('user-name').waitFor();
    expect(await page.getByTestId('user-name').textContent()).toBe('Demo User');
    expect(await page.getByTestId('user-role').textContent()).toContain('User');
    expect(await page.getByRole('button', { name: 'Log out' }).isVisible()).toBe(true);
    expect(new URL(page.url()).pathname).toBe('/');
    // Tokens stay in memory: nothing of the session is in web storage.
    const stored = await page.evaluate<string>('JSON.stringify({ ...localStorage, ...sessionStorage })');
    expect(stored).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/);
    await page.getByTestId('last-updated').filter({ hasText: 'Live' }).waitFor();
    await saveScreenshot(page, 'signed-in-archives');
    expect(problems).toEqual([]);
  });

  it('accepts a fixture repository, shows it completing without a reload, and serves a bundle that clones', async () => {
    const { page, problems } = await pages.signedIn(stack.demo, '/archives');
    // Survives only as long as the document does: a reload would drop it. (String expressions:
    // they run in the page, and this file is type-checked without the DOM library.)
    await page.evaluate("window.noReload = 'still here'");
    const url = git.url('multi');

    await page.getByLabel('Repository URLs').fill(url);
    await page.getByRole('button', { name: 'Archive', exact: true }).click();
    const result = page.getByTestId('submit-results').locator('li').first();
    await result.waitFor();
    expect(await result.getAttribute('data-kind')).toBe('accepted');
    const href = await result.getByRole('link').getAttribute('href');
    const id = href!.split('/').pop()!;
    expect(await page.getByLabel('Repository URLs').inputValue()).toBe('');
    const row = page.locator(`tr[data-id="${id}"]`);
    await row.waitFor();
    await saveScreenshot(page, 'submit-accepted');

    await row.locator('[data-status="completed"]').waitFor({ timeout: 120_000 });
    expect(await page.evaluate('window.noReload')).toBe('still here');
    await saveScreenshot(page, 'archives-completed');

    await row.getByRole('link').first().click();
    await page.waitForURL(`${publicUrl}/archives/${id}`);
    const stamps = page.getByTestId('timeline').locator('li[data-stamp] time');
    await page.getByTestId('timeline').locator('li[data-stamp="finishedAt"] time').waitFor();
    const order = await page
      .getByTestId('timeline')
      .locator('li[data-stamp]')
      .evaluateAll((items) => items.map((li) => li.getAttribute('data-stamp')));
    expect(order).toEqual(['createdAt', 'injectedAt', 'startedAt', 'finishedAt']);
    const times = (await stamps.evaluateAll((items) => items.map((t) => t.getAttribute('datetime')))).map((iso) => Date.parse(iso!));
    expect(times).toHaveLength(4);
    expect(times.every((t) => !Number.isNaN(t))).toBe(true);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    expect(await page.evaluate('window.noReload')).toBe('still here');

    const [download, linkResponse] = await Promise.all([
      page.waitForEvent('download'),
      page.waitForResponse((r) => r.url().endsWith(`/api/archives/${id}/download`) && r.request().method() === 'GET'),
      page.getByTestId('download-bundle').click(),
    ]);
    expect(download.suggestedFilename()).toBe('repo.bundle');
    await download.cancel();
    const link = (await linkResponse.json()) as { url: string; expiresInSeconds: number; cloneCommand: string };
    await page.getByTestId('clone-command').waitFor();
    expect(await page.getByTestId('clone-command').textContent()).toBe(link.cloneCommand);
    // The restore script (curl + git) is offered beside the bundle, ready to copy.
    await page.getByTestId('show-restore-script').click();
    await page.getByTestId('restore-script').waitFor();
    expect(await page.getByTestId('restore-script').textContent()).toMatch(
      /^#!\/bin\/sh[\s\S]*git -C "\$dir" bundle unbundle[\s\S]*update-ref --stdin/,
    );
    await saveScreenshot(page, 'archive-detail');

    // The presigned link works on its own (no token), and what it serves is a clonable bundle.
    const bundle = await fetch(link.url);
    expect(bundle.status).toBe(200);
    const bundlePath = path.join(tmp, `${id}.bundle`);
    await writeFile(bundlePath, Buffer.from(await bundle.arrayBuffer()));
    const clone = path.join(tmp, `clone-${id}`);
    await exec('git', ['clone', '--quiet', bundlePath, clone], { env: { PATH: '/usr/bin:/bin', HOME: tmp, GIT_CONFIG_NOSYSTEM: '1' } });
    const { stdout: head } = await exec('git', ['-C', clone, 'rev-parse', 'HEAD']);
    const archive = await apiAs(stack.demo).archive(id);
    expect(head.trim()).toBe(archive.commit);
    expect(problems).toEqual([]);
  }, 240_000);

  it("shows the API's message next to an invalid URL, keeps it in the form, and records nothing", async () => {
    const bad = 'ftp://example.com/owner/repo.git';
    const before = await api<{ total: number }>(stack.demo, 'GET', '/api/archives?pageSize=1');
    const { page, problems } = await pages.signedIn(stack.demo, '/archives');

    await page.getByLabel('Repository URLs').fill(bad);
    await page.getByRole('button', { name: 'Archive', exact: true }).click();
    const result = page.getByTestId('submit-results').locator('li').first();
    await result.waitFor();
    expect(await result.getAttribute('data-kind')).toBe('error');
    const shown = await result.getByTestId('result-message').textContent();
    await saveScreenshot(page, 'submit-invalid');

    // The same message the API gives any client for this URL (asking it records nothing either).
    const direct = await api<{ error: { message: string } }>(stack.demo, 'POST', '/api/archives', { url: bad });
    expect(direct.status).toBe(400);
    expect(shown).toBe(direct.body.error.message);
    expect(await page.getByLabel('Repository URLs').inputValue()).toBe(bad);
    const after = await api<{ total: number }>(stack.demo, 'GET', '/api/archives?pageSize=1');
    expect(after.body.total).toBe(before.body.total);
    expect(problems).toEqual([]);
  });

  it('gives every URL of a batch its own result and keeps only the failed lines', async () => {
    const { page, problems } = await pages.signedIn(stack.demo, '/archives');
    const good = git.url('trunk');
    const bad = 'https://user:secret@example.com/owner/repo.git';
    await page.getByLabel('Repository URLs').fill(`${good}\n\n${bad}\n`);
    await page.getByRole('button', { name: 'Archive', exact: true }).click();
    const items = page.getByTestId('submit-results').locator('li');
    await items.nth(1).waitFor();
    expect(await items.evaluateAll((lis) => lis.map((li) => li.getAttribute('data-kind')))).toEqual([
      expect.stringMatching(/^(accepted|existing)$/),
      'error',
    ]);
    expect(await page.getByLabel('Repository URLs').inputValue()).toBe(bad);
    await saveScreenshot(page, 'submit-batch');
    expect(problems).toEqual([]);
  });

  it('shows demo a "not allowed" page instead of the admin page', async () => {
    const { page, problems } = await pages.signedIn(stack.demo, '/admin');
    await page.getByRole('heading', { name: 'Not allowed' }).waitFor();
    expect(await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Delete' }).count()).toBe(0);
    await saveScreenshot(page, 'admin-not-allowed');
    expect(problems).toEqual([]);
  });

  it("lets admin see everyone's archives and delete one after confirming", async () => {
    const submitted = await api<ArchiveView>(stack.demo, 'POST', '/api/archives', { url: git.url('trunk') });
    expect([200, 202]).toContain(submitted.status);
    const archive = await settledArchive(apiAs(stack.demo), submitted.body.id, 120_000);

    const { page, problems } = await pages.signedIn(stack.admin, '/admin');
    expect(await page.getByTestId('user-role').textContent()).toContain('Admin');
    await page.getByRole('heading', { name: 'Admin', level: 1 }).waitFor();
    const row = page.locator(`tr[data-id="${archive.id}"]`);
    await row.waitFor();
    await saveScreenshot(page, 'admin-all-archives');

    await row.getByRole('button', { name: /Delete/ }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete this archive?' });
    await dialog.waitFor();
    await saveScreenshot(page, 'admin-confirm-delete');
    await dialog.getByRole('button', { name: 'Delete archive' }).click();
    await row.waitFor({ state: 'detached' });
    await page
      .getByRole('status')
      .filter({ hasText: /^Deleted the archive of/ })
      .waitFor();
    await saveScreenshot(page, 'admin-deleted');

    expect((await api(stack.admin, 'GET', `/api/archives/${archive.id}`)).status).toBe(404);
    expect(problems).toEqual([]);
  }, 180_000);

  it('opens the queue dashboard for admin from the Admin page, and again straight from its address once the sign-in is renewed', async () => {
    const { page, problems } = await pages.signedIn(stack.admin, '/admin');
    await page.getByTestId('open-queue-board').click();
    await page.waitForURL(`${publicUrl}/admin/queues`);
    // bull-board lists every queue by name.
    await page.getByText('archive', { exact: true }).first().waitFor();
    await page.getByText('verify', { exact: true }).first().waitFor();
    await saveScreenshot(page, 'admin-queue-board');

    // Without its cookie (expired, or a new browser session), the address goes through the web
    // app, which renews the cookie from the Keycloak session and comes back.
    await page.context().clearCookies({ name: 'archiver_queue_board' });
    await page.goto(`${publicUrl}/admin/queues`);
    await page.waitForURL(`${publicUrl}/admin/queues`);
    await page.getByText('archive', { exact: true }).first().waitFor();
    // bull-board's page links Google Fonts, which the CSP blocks (and tests reach no network): its own fonts fall back.
    expect(problems.filter((problem) => !problem.includes('fonts.googleapis.com'))).toEqual([]);
  }, 120_000);

  it('logs out to a signed-out page, after which the archives need a login again', async () => {
    const { page, problems } = await pages.signedIn(stack.demo, '/archives');
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL(`${publicUrl}/signed-out`);
    await page.getByRole('heading', { name: 'You are signed out' }).waitFor();
    await saveScreenshot(page, 'signed-out');

    await page.goto(`${publicUrl}/`);
    await page.waitForURL((url) => url.href.startsWith(`${config.keycloak.url}/realms/${realm}/`));
    await page.locator('#kc-form-login').waitFor();
    expect(await isKeycloakLoginPage(page, config.keycloak.url, realm)).toBe(true);
    expect(problems).toEqual([]);
  });

  it('shows statistics as charts', async () => {
    const { page, problems } = await pages.signedIn(stack.demo, '/stats');
    await page.getByRole('heading', { name: 'Statistics', level: 1 }).waitFor();
    await page.locator('.kpi').first().waitFor();
    await page.getByRole('list', { name: 'Archives by status' }).waitFor();
    await page.locator('.column-chart svg').waitFor();
    await saveScreenshot(page, 'statistics');
    expect(problems).toEqual([]);
  });

  it('is usable at phone width (375 px) without sideways scrolling', async () => {
    // An archive of demo's own, so the list has a row to open whichever tests ran before.
    const submitted = await api<ArchiveView>(stack.demo, 'POST', '/api/archives', { url: git.url('multi') });
    expect([200, 202]).toContain(submitted.status);
    const { page, problems } = await pages.signedIn(stack.demo, '/archives', { viewport: { width: 375, height: 780 } });
    await page.getByTestId('last-updated').filter({ hasText: 'Live' }).waitFor();
    const overflow = async () => page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    const row = page.locator(`tr[data-id="${submitted.body.id}"]`);
    await row.waitFor();
    expect(await overflow()).toBeLessThanOrEqual(0);
    await saveScreenshot(page, 'archives-phone');

    await row.locator('a.repo-link').click();
    await page.getByTestId('timeline').waitFor();
    expect(await overflow()).toBeLessThanOrEqual(0);
    await saveScreenshot(page, 'archive-detail-phone');
    await page.getByRole('link', { name: 'Statistics' }).click();
    await page.locator('.kpi').first().waitFor();
    expect(await overflow()).toBeLessThanOrEqual(0);
    await saveScreenshot(page, 'statistics-phone');
    expect(problems).toEqual([]);
  });

  it('can be used with the keyboard alone: skip link, form, submit', async () => {
    const { page, problems } = await pages.signedIn(stack.demo, '/archives');
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('Skip to content');
    await page.keyboard.press('Enter');
    // From the main content, the first field reached is the URL box, labelled.
    for (let i = 0; i < 10; i++) {
      if (await page.evaluate("document.activeElement?.tagName === 'TEXTAREA'")) break;
      await page.keyboard.press('Tab');
    }
    expect(await page.evaluate('document.activeElement?.id')).toBe(await page.getByLabel('Repository URLs').getAttribute('id'));
    await page.keyboard.type('not a url');
    await page.keyboard.press('Control+Enter');
    await page.getByTestId('submit-results').locator('li[data-kind="error"]').waitFor();
    expect(problems).toEqual([]);
  });
});

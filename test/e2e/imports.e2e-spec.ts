import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import {
  BrowserPages,
  createFixtureRepos,
  type FixtureRepos,
  type GiteaClient,
  type GiteaRepo,
  type GiteaToken,
  gitWithAuth,
  KeycloakTestClient,
  saveScreenshot,
  startGitea,
  tearDown,
  uniqueName,
  WebApps,
} from '@archiver/testing';

type Login = { username: string; password: string };

/**
 * The Imports page (issue 12, item 6), in real Chromium against the real stack and a real Gitea:
 * an organization with public, private and forked repositories imported through the form (the
 * token only in the request), followed live to `completed` with every repository's outcome and
 * links to the tracked ones; a refused token explained in words.
 */
describe('web interface: organization imports', () => {
  const keycloak = KeycloakTestClient.fromEnvironment();
  let publicUrl: string;
  let web: WebApps | undefined;
  let pages: BrowserPages;
  let scratch: string;
  let fixtures: FixtureRepos;
  let gitea: GiteaClient;
  let giteaUrl: string;
  let token: GiteaToken;
  let org: string;
  let login: Login;

  async function fillForm(page: Page, values: { owner: string; token: string }): Promise<void> {
    await page.getByLabel('Forge').selectOption('gitea');
    await page.getByLabel('Base URL').fill(giteaUrl);
    await page.getByLabel('Owner').fill(values.owner);
    await page.getByLabel('Token (optional)').fill(values.token);
  }

  beforeAll(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'archiver-e2e-imports-'));
    fixtures = await createFixtureRepos(scratch);
    const forge = await startGitea();
    gitea = forge.client;
    giteaUrl = forge.url;
    const owner = await gitea.createUser(uniqueName('importer'));
    token = await gitea.createToken(owner, uniqueName('import'));
    org = (await gitea.createOrganization(owner, uniqueName('org'))).name;
    const push = (repo: GiteaRepo) =>
      gitWithAuth(['push', '--quiet', repo.cloneUrl, '+refs/heads/*:refs/heads/*'], fixtures.multi, { token: token.token });
    const open = await gitea.createRepo(org, 'site', { private: false });
    const secret = await gitea.createRepo(org, 'vault', { private: true });
    await gitea.createRepo(org, 'notes', { private: false });
    await Promise.all([push(open), push(secret)]);
    const upstream = await gitea.createRepo(owner.username, uniqueName('upstream'));
    await push(upstream);
    await gitea.fork(upstream, { token: token.token }, { organization: org, name: 'site-fork' });

    web = await WebApps.start({ pages: { viewport: { width: 1280, height: 1000 } } });
    ({ publicUrl, pages } = web);
    const user = await keycloak.createUser({ username: uniqueName('imports'), realmRoles: ['archiver-user'] });
    login = { username: user.username, password: user.password };
  }, 180_000);

  afterEach(async () => {
    await pages?.closePages();
  });

  afterAll(() => tearDown({ close: [() => web?.stop(), () => keycloak.cleanup()], dirs: [scratch] }));

  it('imports an organization through the form and follows every repository to its outcome', async () => {
    const { page, problems } = await pages.signedIn(login, '/');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Imports' }).click();
    await page.waitForURL(`${publicUrl}/imports`);
    await page.getByText('No imports yet').waitFor();
    await fillForm(page, { owner: org, token: token.token });
    await page.getByRole('button', { name: 'Import' }).click();
    await page.waitForURL(/\/imports\/[^/]+$/, { timeout: 30_000 });

    await page.locator('[data-testid="import-state"][data-state="completed"]').waitFor({ timeout: 120_000 });
    const rows = page.getByTestId('import-items').locator('tbody tr');
    const outcomes = Object.fromEntries(
      await rows.evaluateAll((trs) => trs.map((tr) => [tr.getAttribute('data-name')!.split('/')[1], tr.getAttribute('data-outcome')])),
    );
    expect(outcomes).toEqual({ site: 'tracked', vault: 'tracked', notes: 'tracked', 'site-fork': 'skipped_fork' });
    for (const name of ['site', 'vault', 'notes']) {
      const link = page.locator(`tr[data-name="${org}/${name}"]`).getByTestId('tracked-link');
      expect(await link.getAttribute('href')).toMatch(/^\/repositories\/[^/]+$/);
    }
    expect(await page.locator(`tr[data-name="${org}/site-fork"]`).getByTestId('tracked-link').count()).toBe(0);
    expect(await page.getByTestId('import-counts').textContent()).toContain('4 listed · 3 tracked · 1 skipped · 0 failed');
    // The token went with the request only: neither the page nor the browser's storage holds it.
    expect(await page.content()).not.toContain(token.token);
    expect(await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }))).not.toContain(
      token.token,
    );
    await saveScreenshot(page, 'imports-detail-completed');

    await page.locator(`tr[data-name="${org}/vault"]`).getByTestId('tracked-link').click();
    await page.waitForURL(/\/repositories\/[^/]+$/);
    await page.getByRole('link', { name: 'Imports' }).click();
    await page.getByTestId('imports').locator('tbody tr').first().waitFor();
    await saveScreenshot(page, 'imports-list');
    expect(problems).toEqual([]);
  });

  it('explains a refused token in words a person can act on', async () => {
    const { page, problems } = await pages.signedIn(login, '/imports');
    await fillForm(page, { owner: org, token: 'not-a-valid-token' });
    await page.getByRole('button', { name: 'Import' }).click();
    await page.waitForURL(/\/imports\/[^/]+$/, { timeout: 30_000 });
    await page.locator('[data-testid="import-state"][data-state="failed"]').waitFor({ timeout: 120_000 });
    const error = await page.getByTestId('import-error').textContent();
    expect(error).toContain('The forge refused the token');
    expect(error).toContain('FORGE_AUTH_FAILED');
    await saveScreenshot(page, 'imports-bad-token');
    // A malformed address never reaches the server.
    await page.goto(`${publicUrl}/imports`);
    await page.getByLabel('Base URL').fill('not a url');
    await page.getByLabel('Owner').fill(org);
    await page.getByRole('button', { name: 'Import' }).click();
    await page.getByTestId('import-result').getByText('http(s) address').waitFor();
    expect(problems).toEqual([]);
  });
});

import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { loadConfig } from '@archiver/config';
import { PrismaService } from '@archiver/database';
import { ObjectStoreRepository } from '@archiver/storage';
import {
  ApiClient,
  type ArchiveView,
  BrowserPages,
  createFixtureRepos,
  type FixtureRepos,
  type GiteaClient,
  type GiteaToken,
  type GiteaUser,
  KeycloakTestClient,
  pushFixture,
  saveScreenshot,
  settledArchive,
  startGitea,
  tearDown,
  uniqueName,
  waitFor,
  WebApps,
} from '@archiver/testing';

interface RepositoryView {
  id: string;
  url: string;
  credential: { kind: string; set: true; lastUsedAt: string | null } | null;
  visits: { items: ArchiveView[] };
}

type Login = { username: string; password: string };

const VISIT_TIMEOUT_MS = 120_000;

/**
 * Credentials through the web interface (issue 12, item 6), in real Chromium against the real
 * stack and a real Gitea on loopback: a private repository tracked with a token typed into the
 * form, shown afterwards only as "set · token", replaced and removed on its page; an unusable SSH
 * key refused beside the field. The secret must never be left in the page, its address or storage.
 */
describe('web interface: credentials of private repositories', () => {
  const config = loadConfig();
  const prisma = new PrismaService(config);
  const store = new ObjectStoreRepository(config.minio);
  const keycloak = KeycloakTestClient.fromEnvironment();
  let publicUrl: string;
  let web: WebApps | undefined;
  let pages: BrowserPages;
  let scratch: string;
  let fixtures: FixtureRepos;
  let gitea: GiteaClient;
  let sshPort: number;
  let owner: GiteaUser;
  let token: GiteaToken;
  let login: Login;
  let api: ApiClient;

  const privateRepo = async () => {
    const repo = await gitea.createRepo(owner.username, uniqueName('private'), { private: true });
    await pushFixture(fixtures.multi, repo.cloneUrl, { token: token.token });
    return repo;
  };

  /** Everything the page holds that a secret could hide in: its HTML, address and web storage. */
  const pageTraces = async (page: Page): Promise<string> => {
    const storage = await page.evaluate<string>('JSON.stringify([{ ...localStorage }, { ...sessionStorage }])');
    return [await page.content(), page.url(), storage].join('\n');
  };

  const repositoryOf = async (name: string): Promise<RepositoryView> =>
    waitFor(`${name} to be tracked`, async () => {
      const { body } = await api.call<{ items: RepositoryView[] }>('GET', `/api/repositories?q=${encodeURIComponent(name)}`);
      return body.items[0];
    });

  const credentialFor = (page: Page) => page.getByTestId('credential-status');

  beforeAll(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'archiver-e2e-credentials-'));
    fixtures = await createFixtureRepos(scratch);
    const forge = await startGitea();
    gitea = forge.client;
    sshPort = forge.sshPort;
    owner = await gitea.createUser(uniqueName('owner'));
    token = await gitea.createToken(owner, uniqueName('archiver'));
    const user = await keycloak.createUser({ username: uniqueName('creds'), realmRoles: ['archiver-user'] });
    login = { username: user.username, password: user.password };
    web = await WebApps.start({
      frontendEnv: { REPOSITORY_VISIT_COOLDOWN_SECONDS: '1' },
      pages: { viewport: { width: 1280, height: 1000 } },
    });
    const { frontend } = web;
    ({ publicUrl, pages } = web);
    api = new ApiClient(frontend.url, () => keycloak.passwordToken(login.username, login.password));
  }, 240_000);

  afterEach(async () => {
    await pages?.closePages();
  });

  afterAll(() =>
    tearDown({ close: [() => store.close(), () => web?.stop(), () => keycloak.cleanup(), () => prisma.$disconnect()], dirs: [scratch] }),
  );

  it('tracks a private repository with a token typed into the form: the visit completes, the page shows "set · token", the token is gone from the page', async () => {
    const repo = await privateRepo();
    const { page, problems } = await pages.signedIn(login, '/');
    await page.getByLabel('Repository URL').fill(repo.cloneUrl);
    await page.getByTestId('private-repository').locator('summary').click();
    await page.getByLabel('Token', { exact: true }).check();
    await page.getByLabel('Access token').fill(token.token);
    await saveScreenshot(page, 'credentials-track-form');
    await page.getByRole('button', { name: 'Track' }).click();
    await page.getByTestId('track-result').getByText('Now tracking').waitFor();
    expect(await page.getByLabel('Access token').inputValue()).toBe('');

    const tracked = await repositoryOf(repo.name);
    const detail = await api.call<RepositoryView>('GET', `/api/repositories/${tracked.id}`);
    const visit = await settledArchive(api, detail.body.visits.items[0].id, VISIT_TIMEOUT_MS);
    expect(visit).toMatchObject({ status: 'completed', error: null });

    await page.goto(`${publicUrl}/repositories/${tracked.id}`);
    await credentialFor(page)
      .getByText(/set · token · last used/)
      .waitFor();
    await saveScreenshot(page, 'credentials-set-token');
    expect(await pageTraces(page)).not.toContain(token.token);
    const [row] = await prisma.$queryRaw<{ credential: string }[]>`SELECT credential FROM repository WHERE id = ${tracked.id}::uuid`;
    expect(row.credential).not.toContain(token.token);
    expect(problems).toEqual([]);
  });

  it('replaces the credential with a user name and password, then removes it, on the repository page', async () => {
    const repo = await privateRepo();
    const tracked = await api.call<RepositoryView>('POST', '/api/repositories', {
      json: { url: repo.cloneUrl, credential: { kind: 'token', token: token.token } },
    });
    expect(tracked.status).toBe(201);
    const { page, problems } = await pages.signedIn(login, `/repositories/${tracked.body.id}`);
    await credentialFor(page)
      .getByText(/set · token/)
      .waitFor();

    const second = await gitea.createToken(owner, uniqueName('second'));
    await page.getByRole('button', { name: 'Replace' }).click();
    await page.getByLabel('Username and password').check();
    await page.getByLabel('User name', { exact: true }).fill(owner.username);
    await page.getByLabel('Password', { exact: true }).fill(second.token);
    await page.getByRole('button', { name: 'Save credential' }).click();
    await credentialFor(page)
      .getByText(/set · username and password/)
      .waitFor();
    expect((await api.call<RepositoryView>('GET', `/api/repositories/${tracked.body.id}`)).body.credential).toMatchObject({
      kind: 'basic',
      set: true,
    });
    expect(await pageTraces(page)).not.toContain(second.token);

    // The replaced credential opens the repository at the next visit.
    const asked = await waitFor('a visit accepted', async () => {
      const answer = await api.call<ArchiveView>('POST', `/api/repositories/${tracked.body.id}/visits`);
      return answer.status === 429 ? undefined : answer;
    });
    expect(await settledArchive(api, asked.body.id, VISIT_TIMEOUT_MS)).toMatchObject({ status: 'completed' });

    await page.getByRole('button', { name: 'Remove' }).click();
    await credentialFor(page)
      .getByText(/Credential: none/)
      .waitFor();
    await saveScreenshot(page, 'credentials-removed');
    expect((await api.call<RepositoryView>('GET', `/api/repositories/${tracked.body.id}`)).body.credential).toBeNull();
    expect(problems).toEqual([]);
  });

  it('explains beside the field why an SSH key is refused: not a key at all (in the page), or one ssh cannot use (the API)', async () => {
    const url = `ssh://git@127.0.0.1:${sshPort}/${owner.username}/${uniqueName('ssh')}.git`;
    const { page, problems } = await pages.signedIn(login, '/');
    await page.getByLabel('Repository URL').fill(url);
    await page.getByLabel('Repository URL').blur();
    // An SSH address opens the credential fields with the SSH kind chosen.
    await page.getByLabel('Private key').waitFor();
    expect(await page.getByLabel('SSH deploy key').isChecked()).toBe(true);

    await page.getByLabel('Private key').fill('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA a public key, not the private one');
    await page.getByRole('button', { name: 'Track' }).click();
    await page
      .getByTestId('credential-error')
      .getByText(/Paste the whole private key/)
      .waitFor();

    // The scp-like address forges show for SSH clones passes the form's URL check as well: the API answers.
    await page.getByLabel('Repository URL').fill(`git@127.0.0.1:${owner.username}/${uniqueName('scp')}.git`);
    const broken = '-----BEGIN OPENSSH PRIVATE KEY-----\nbm90IGEga2V5IGF0IGFsbA==\n-----END OPENSSH PRIVATE KEY-----';
    await page.getByLabel('Private key').fill(broken);
    await page.getByRole('button', { name: 'Track' }).click();
    const error = page.getByTestId('credential-error');
    await error.getByText(/credential:/).waitFor();
    expect(await page.getByTestId('track-error').isVisible()).toBe(false);
    expect(await error.textContent()).toMatch(/Enter the credential again/);
    expect(await page.getByLabel('Private key').inputValue()).toBe('');
    expect(await pageTraces(page)).not.toContain('bm90IGEga2V5IGF0IGFsbA');
    await saveScreenshot(page, 'credentials-invalid-ssh-key');
    expect(problems).toEqual([]);
  });

  it('archives a private repository once with a token from the Archives form; without one it fails AUTH_REQUIRED', async () => {
    const repo = await privateRepo();
    const { page, problems } = await pages.signedIn(login, '/archives');
    const urls = page.getByLabel('Repository URLs');
    await urls.fill(repo.cloneUrl);
    await page.getByRole('button', { name: 'Archive', exact: true }).click();
    const plain = page.getByTestId('submit-results').locator('[data-kind="accepted"]');
    await plain.waitFor();
    const plainId = new URL((await plain.getByRole('link').getAttribute('href'))!, publicUrl).pathname.split('/').pop()!;
    expect(await settledArchive(api, plainId, VISIT_TIMEOUT_MS)).toMatchObject({ status: 'failed', error: { code: 'AUTH_REQUIRED' } });

    await urls.fill(repo.cloneUrl);
    await page.getByTestId('private-repository').locator('summary').click();
    await page.getByLabel('Access token').fill(token.token);
    await page.getByRole('button', { name: 'Archive', exact: true }).click();
    // The new submission's result replaces the plain one's.
    const link = page.getByTestId('submit-results').locator(`[data-kind="accepted"] a:not([href$="${plainId}"])`);
    await link.waitFor();
    const id = (await link.getAttribute('href'))!.split('/').pop()!;
    expect(await page.getByLabel('Access token').inputValue()).toBe('');
    expect(await settledArchive(api, id, VISIT_TIMEOUT_MS)).toMatchObject({ status: 'completed', error: null });
    await page.getByTestId('submit-results').locator('[data-status="completed"]').waitFor();
    await saveScreenshot(page, 'credentials-one-off-archive');
    expect(await pageTraces(page)).not.toContain(token.token);
    expect(problems).toEqual([]);
  });
});

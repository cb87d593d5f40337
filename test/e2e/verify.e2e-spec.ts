import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, loadStackSettings } from '@archiver/config';
import { ObjectStoreRepository } from '@archiver/storage';
import {
  type AppProcess,
  BrowserPages,
  createFixtureRepos,
  fixtureGit,
  type FixtureRepos,
  type GitHttpServerHandle,
  KeycloakTestClient,
  readManifestWithFiles,
  startGitHttpServer,
  tearDown,
  uniqueName,
  userApi,
  type UserApi,
  waitFor,
  WebApps,
} from '@archiver/testing';

interface Visit {
  id: string;
  status: string;
  bucket: string | null;
  prefix: string | null;
}

/**
 * Restore drills in real Chromium (issue 11, item 7): "Verify now" on a snapshot's page shows
 * the pass; after a stored file object is deleted behind the archiver's back, the next drill
 * shows the failure there, and the repository's page marks the visit with the reason.
 */
describe('web interface: restore drills', () => {
  const stack = loadStackSettings();
  const store = new ObjectStoreRepository(loadConfig().minio);
  const keycloak = KeycloakTestClient.fromEnvironment();
  let publicUrl: string;
  let frontend: AppProcess;
  let fixtures: FixtureRepos;
  let git: GitHttpServerHandle;
  let web: WebApps | undefined;
  let pages: BrowserPages;
  let api: UserApi;
  let tmp: string;

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'archiver-web-verify-'));
    fixtures = await createFixtureRepos(tmp);
    git = await startGitHttpServer({ root: fixtures.root });
    web = await WebApps.start({ pages: { viewport: { width: 1280, height: 900 } } });
    ({ frontend, publicUrl, pages } = web);
    api = userApi(frontend.url, keycloak);
  }, 120_000);

  afterEach(async () => {
    await pages?.closePages();
  });

  afterAll(() => tearDown({ close: [() => store.close(), () => web?.stop(), () => git?.stop(), () => keycloak.cleanup()], dirs: [tmp] }));

  it('verifies a snapshot on request, then shows a deleted object on the snapshot and on the repository page', async () => {
    const name = uniqueName('verify');
    await fixtureGit(['clone', '--quiet', '--bare', fixtures.multi, path.join(fixtures.root, `${name}.git`)], fixtures.root);
    const tracked = await api<{ id: string }>(stack.demo, 'POST', '/api/repositories', { url: git.url(name) });
    expect(tracked.status).toBe(201);
    const visit = await waitFor(
      'the first visit',
      async () => {
        const { body } = await api<{ visits: { items: Visit[] } }>(stack.demo, 'GET', `/api/repositories/${tracked.body.id}`);
        const first = body.visits.items[0];
        return first && first.status === 'completed' ? first : undefined;
      },
      120_000,
      500,
    );

    const { page, problems } = await pages.signedIn(stack.demo, `/archives/${visit.id}`);
    const card = page.getByTestId('verification');
    await card.locator('[data-verification="unverified"]').waitFor();
    await page.getByTestId('verify-now').click();
    await card.locator('[data-verification="passed"]').waitFor({ timeout: 90_000 });

    const manifest = await readManifestWithFiles(store, visit.bucket!, visit.prefix!);
    const file = manifest.files.find((f) => f.key.startsWith('objects/'))!;
    await store.removeObject(visit.bucket!, file.key);
    await page.getByTestId('verify-now').click();
    await card.locator('[data-verification="failed"]').waitFor({ timeout: 90_000 });
    expect(await card.textContent()).toContain(file.key);

    await page.goto(`${publicUrl}/repositories/${tracked.body.id}`);
    await page.getByTestId('verification-failures').waitFor();
    const item = page.locator(`li[data-id="${visit.id}"]`);
    expect(await item.getAttribute('data-verification')).toBe('failed');
    expect(await item.getByTestId('verify-failed').textContent()).toContain('MISSING_OBJECT');
    expect(problems).toEqual([]);
  });
});

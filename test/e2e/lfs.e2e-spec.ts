import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  ApiClient,
  type ArchiveView,
  BrowserPages,
  commitLfsFiles,
  fixtureBytes,
  fixtureGit,
  type GiteaToken,
  type GiteaUser,
  gitWithAuth,
  KeycloakTestClient,
  lfsObjectIdOf,
  saveScreenshot,
  settledArchive,
  startGitea,
  tearDown,
  uniqueName,
  uploadLfsObjects,
  WebApps,
} from '@archiver/testing';

/**
 * Git LFS in the snapshot browser (issue 12, item 6), in real Chromium against the real stack
 * and a real Gitea: a repository with one LFS object uploaded and one pointer to an object never
 * uploaded is archived; the listing tags the stored one with its real size and the other as
 * missing, the missing file's page says its content is not archived and why above the pointer,
 * and the archive's page sums the LFS objects up.
 */
describe('web interface: Git LFS in the file browser', () => {
  const keycloak = KeycloakTestClient.fromEnvironment();
  const allowed = { ARCHIVER_ALLOWED_HOSTS: '127.0.0.1,::1,localhost' };
  let publicUrl: string;
  let web: WebApps | undefined;
  let pages: BrowserPages;
  let scratch: string;
  let login: { username: string; password: string };
  let archive: ArchiveView;

  beforeAll(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'archiver-e2e-lfs-'));
    const { client: gitea } = await startGitea();
    const owner: GiteaUser = await gitea.createUser(uniqueName('lfs'));
    const token: GiteaToken = await gitea.createToken(owner, uniqueName('archiver'));
    const repo = await gitea.createRepo(owner.username, uniqueName('lfs-web'), { private: true });
    const tree = path.join(scratch, 'work');
    await fixtureGit(['init', '--quiet', '--initial-branch=main', tree], scratch);
    const stored = fixtureBytes(150_000, 31);
    const readme = { path: 'README.md', bytes: Buffer.from('# LFS fixture\n') };
    await commitLfsFiles(
      tree,
      {
        lfs: [
          { path: 'stored.bin', bytes: stored },
          { path: 'never.bin', pointerOf: lfsObjectIdOf(fixtureBytes(4000, 32)) },
        ],
        plain: [readme],
      },
      'one stored, one missing',
    );
    await gitWithAuth(['push', '--quiet', repo.cloneUrl, '+refs/heads/*:refs/heads/*'], tree, { token: token.token });
    await uploadLfsObjects(repo.cloneUrl, { username: owner.username, password: token.token }, [stored]);

    web = await WebApps.start({ env: allowed, pages: { viewport: { width: 1280, height: 1000 } } });
    const { frontend } = web;
    ({ publicUrl, pages } = web);
    const user = await keycloak.createUser({ username: uniqueName('lfs'), realmRoles: ['archiver-user'] });
    login = { username: user.username, password: user.password };
    const api = new ApiClient(frontend.url, () => keycloak.passwordToken(user.username, user.password));
    const tracked = await api.call<{ lastVisit: { archiveId: string } }>('POST', '/api/repositories', {
      json: { url: repo.cloneUrl, credential: { kind: 'token', token: token.token } },
    });
    expect(tracked.status).toBe(201);
    archive = await settledArchive(api, tracked.body.lastVisit.archiveId, 120_000);
    expect(archive).toMatchObject({ status: 'completed' });
  }, 240_000);

  afterEach(async () => {
    await pages?.closePages();
  });

  afterAll(() => tearDown({ close: [() => web?.stop(), () => keycloak.cleanup()], dirs: [scratch] }));

  it('tags the stored LFS file with its real size and the missing one as missing, with the reason and the pointer', async () => {
    const { page, problems } = await pages.signedIn(login, `/archives/${archive.id}/files`);
    const storedTag = page.locator('tr', { hasText: 'stored.bin' }).getByTestId('lfs-tag');
    await storedTag.waitFor();
    expect(await storedTag.getAttribute('data-lfs')).toBe('stored');
    // 150,000 bytes: the object's real size, not the pointer's ~130 bytes.
    expect(await storedTag.textContent()).toBe('LFS · 146 KiB');
    const missingTag = page.locator('tr', { hasText: 'never.bin' }).getByTestId('lfs-tag');
    expect(await missingTag.getAttribute('data-lfs')).toBe('missing');
    expect(await missingTag.getAttribute('title')).not.toBe('');
    expect(await page.locator('tr', { hasText: 'README.md' }).getByTestId('lfs-tag').count()).toBe(0);
    await saveScreenshot(page, 'lfs-listing');

    await page.locator('tr', { hasText: 'never.bin' }).getByRole('link').click();
    const missing = page.getByTestId('lfs-missing');
    await missing.waitFor();
    expect(await missing.textContent()).toMatch(/not in the archive.*Why: /s);
    await page.getByTestId('file-lines').getByText('version https://git-lfs.github.com/spec/v1').waitFor();
    await saveScreenshot(page, 'lfs-missing-file');

    await page.goto(`${publicUrl}/archives/${archive.id}`);
    await page.getByTestId('lfs-summary').waitFor();
    expect(await page.getByTestId('lfs-summary').textContent()).toMatch(/^1 LFS object archived · .+ · 1 missing$/);
    expect(await page.getByTestId('lfs-missing-list').locator('tbody tr').allTextContents()).toEqual([
      expect.stringContaining('never.bin'),
    ]);
    await saveScreenshot(page, 'lfs-archive-summary');
    expect(problems).toEqual([]);
  });
});

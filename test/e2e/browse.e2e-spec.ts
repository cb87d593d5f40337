import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { loadConfig, loadStackSettings } from '@archiver/config';
import { PrismaService } from '@archiver/database';
import { ObjectStoreRepository } from '@archiver/storage';
import {
  ApiClient,
  type ArchiveView,
  BROWSE_FIXTURE,
  BrowserPages,
  createBrowseFixtureRepo,
  createFixtureRepos,
  type GitHttpServerHandle,
  KeycloakTestClient,
  removeArchivesUnder,
  saveScreenshot,
  settledArchive,
  startGitHttpServer,
  tearDown,
  waitFor,
  WebApps,
} from '@archiver/testing';

jest.setTimeout(180_000);

/** Injected by the browser itself (not subject to the page's CSP): records every violation. */
const RECORD_CSP_VIOLATIONS = `window.__cspViolations = [];
  document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));`;

/**
 * The file browser in real Chromium against the real stack: a snapshot of the browse fixture
 * (made by the real worker), listed, its README rendered under the app's strict CSP, files
 * shown or downloaded.
 */
describe('snapshot file browser', () => {
  const config = loadConfig();
  const stack = loadStackSettings();
  const keycloak = KeycloakTestClient.fromEnvironment();
  const prisma = new PrismaService(config);
  const store = new ObjectStoreRepository(config.minio);
  let publicUrl: string;
  let git: GitHttpServerHandle;
  let web: WebApps | undefined;
  let pages: BrowserPages;
  let tmp: string;
  let archive: ArchiveView;

  const expectNoProblems = async (page: Page, problems: string[]) => {
    expect(await page.evaluate('window.__cspViolations')).toEqual([]);
    expect(problems).toEqual([]);
  };

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'archiver-browse-e2e-'));
    const repos = await createFixtureRepos(tmp);
    await createBrowseFixtureRepo(repos.root);
    git = await startGitHttpServer({ root: repos.root });
    web = await WebApps.start({
      workerEnv: { ARCHIVER_WORK_DIR: path.join(tmp, 'worker') },
      pages: { viewport: { width: 1280, height: 900 }, acceptDownloads: true, initScript: RECORD_CSP_VIOLATIONS },
    });
    const { frontend } = web;
    ({ publicUrl, pages } = web);
    const api = new ApiClient(frontend.url, () => keycloak.passwordToken(stack.demo.username, stack.demo.password));
    archive = await settledArchive(api, (await api.submit(git.url('browse'))).id);
    expect(archive.status).toBe('completed');
  });

  afterEach(async () => {
    await pages?.closePages();
  });

  afterAll(() =>
    tearDown({
      cleanUp: async () => {
        await web?.stop();
        if (git) await removeArchivesUnder(`${git.baseUrl}/`, { prisma, store, queues: [] });
      },
      close: [() => store.close(), () => prisma.$disconnect(), () => git?.stop()],
      dirs: [tmp],
    }),
  );

  it('serves marked and DOMPurify as JavaScript from this origin', async () => {
    for (const file of ['/vendor/marked/marked.esm.js', '/vendor/dompurify/purify.es.mjs']) {
      const res = await fetch(`${publicUrl}${file}`);
      expect({ file, status: res.status, type: res.headers.get('content-type') }).toEqual({
        file,
        status: 200,
        type: expect.stringMatching(/^(text|application)\/javascript/),
      });
    }
  });

  it('opens the archive, renders the README without running its script, and browses into a directory', async () => {
    const { page, problems } = await pages.signedIn(stack.demo, `/archives/${archive.id}`);
    await page.getByTestId('browse-files').click();
    await page.waitForURL(`${publicUrl}/archives/${archive.id}/files`);
    const listing = page.getByTestId('tree-listing');
    await listing.getByRole('link', { name: 'docs/' }).waitFor();

    const readme = page.getByTestId('readme');
    await readme.getByRole('heading', { name: BROWSE_FIXTURE.readmeHeading }).waitFor();
    const docsLink = readme.getByRole('link', { name: BROWSE_FIXTURE.docsLinkText });
    expect(await docsLink.getAttribute('href')).toBe(`/archives/${archive.id}/files/docs/guide.md`);
    expect(await docsLink.getAttribute('rel')).toContain('noopener');
    const external = readme.getByRole('link', { name: 'an external site' });
    expect(await external.getAttribute('target')).toBe('_blank');
    expect(await external.getAttribute('rel')).toContain('noopener');
    // The relative image is loaded through the files API as a blob, and decodes.
    const logo = readme.getByRole('img', { name: 'the logo' });
    // Polled from here: page.waitForFunction would evaluate a string inside the page once its first
    // check fails, and the page's CSP (no 'unsafe-eval') refuses that on a slow machine.
    await waitFor('the README image to decode', async () =>
      (await page.evaluate(`(() => {
        const img = document.querySelector('[data-testid="readme"] img[alt="the logo"]');
        return img !== null && img.complete && img.naturalWidth === 2;
      })()`))
        ? true
        : undefined,
    );
    expect(await logo.getAttribute('src')).toMatch(/^blob:/);
    // Neither the script nor the inline handlers made it into the page, and nothing ran.
    expect(await readme.locator('script, [onclick], [onerror], [style]').count()).toBe(0);
    expect(await readme.textContent()).not.toContain(BROWSE_FIXTURE.scriptFlag);
    expect(await readme.getByText('a script link').getAttribute('href')).toBeNull();
    const flags = await page.evaluate(`[window.${BROWSE_FIXTURE.scriptFlag}, window.${BROWSE_FIXTURE.imageFlag}]`);
    expect(flags).toEqual([undefined, undefined]);
    await saveScreenshot(page, 'browse-root');

    await listing.getByRole('link', { name: 'docs/' }).click();
    await page.waitForURL(`${publicUrl}/archives/${archive.id}/files/docs`);
    await page.getByTestId('tree-listing').getByRole('link', { name: 'guide.md' }).waitFor();
    // A plain-text README is shown as text.
    await page.getByTestId('readme').getByText('The docs folder: a plain-text README.').waitFor();
    const crumbs = page.getByTestId('breadcrumbs');
    expect(await crumbs.locator('li').allTextContents()).toEqual([expect.stringContaining('browse'), 'docs']);

    // A link in a Markdown file leads to the file page, and the breadcrumbs back to the root.
    await page.getByTestId('tree-listing').getByRole('link', { name: 'guide.md' }).click();
    await page.getByTestId('file-lines').waitFor();
    await crumbs.getByRole('link').first().click();
    await page.getByTestId('readme').waitFor();
    await expectNoProblems(page, problems);
  });

  it('shows a text file with line numbers', async () => {
    const { page, problems } = await pages.signedIn(stack.demo, `/archives/${archive.id}/files/${BROWSE_FIXTURE.textFile}`);
    const lines = page.getByTestId('file-lines').locator('.code-line');
    await lines.first().waitFor();
    expect(await lines.count()).toBe(BROWSE_FIXTURE.textLines.length);
    expect(await lines.locator('.line-no').allTextContents()).toEqual(BROWSE_FIXTURE.textLines.map((_, i) => String(i + 1)));
    expect(await lines.locator('.line-text').allTextContents()).toEqual([...BROWSE_FIXTURE.textLines]);
    await saveScreenshot(page, 'browse-text-file');
    await expectNoProblems(page, problems);
  });

  it('opens a file whose name is not UTF-8 (its address carries the exact bytes as pathBase64)', async () => {
    const { page, problems } = await pages.signedIn(stack.demo, `/archives/${archive.id}/files/${BROWSE_FIXTURE.latin1Dir}`);
    await page.getByTestId('tree-listing').getByRole('link', { name: 'caf\ufffd.txt' }).click();
    await page.getByTestId('file-lines').getByText('a Latin-1 name').waitFor();
    const full = Buffer.concat([Buffer.from(`${BROWSE_FIXTURE.latin1Dir}/`), BROWSE_FIXTURE.latin1NameBytes]);
    expect(new URL(page.url()).searchParams.get('pathBase64')).toBe(full.toString('base64'));
    await page.reload();
    await page.getByTestId('file-lines').getByText('a Latin-1 name').waitFor();
    await expectNoProblems(page, problems);
  });

  it.each([
    ['a binary file', BROWSE_FIXTURE.binaryFile, 'blob.bin'],
    ['a text file over 1 MB', BROWSE_FIXTURE.bigTextFile, 'big.txt'],
    ['a hostile HTML file', BROWSE_FIXTURE.html, 'page.html'],
  ])('offers %s for download, with its exact bytes', async (_, filePath, name) => {
    const { page, problems } = await pages.signedIn(stack.demo, `/archives/${archive.id}/files/${filePath}`);
    const isBinary = filePath !== BROWSE_FIXTURE.html;
    if (isBinary) await page.getByTestId('file-binary').waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('file-download').click()]);
    expect(download.suggestedFilename()).toBe(name);
    const saved = await readFile((await download.path())!);
    const direct = await fetch(`${publicUrl}/api/archives/${archive.id}/files/${filePath}`, {
      headers: { authorization: `Bearer ${await keycloak.passwordToken(stack.demo.username, stack.demo.password)}` },
    });
    expect(saved.equals(Buffer.from(await direct.arrayBuffer()))).toBe(true);
    // The HTML file is shown as its source text, never rendered.
    if (!isBinary) expect(await page.getByTestId('file-lines').textContent()).toContain('<script>');
    expect(await page.title()).not.toBe('pwned');
    await expectNoProblems(page, problems);
  });
});

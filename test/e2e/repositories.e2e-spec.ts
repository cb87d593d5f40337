import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { loadStackSettings } from '@archiver/config';
import {
  type AppProcess,
  BrowserPages,
  createFixtureRepos,
  fixtureGit,
  type FixtureRepos,
  type GitHttpServerHandle,
  KeycloakTestClient,
  saveScreenshot,
  startGitHttpServer,
  tearDown,
  uniqueName,
  type UserApi,
  userApi,
  waitFor,
  WebApps,
} from '@archiver/testing';

interface Visit {
  id: string;
  status: string;
  outcome?: string | null;
}
interface Repository {
  id: string;
  url: string;
  state: string;
  stateReason: string | null;
  lastVisit: { archiveId: string; status: string; outcome: string | null } | null;
  visits?: { items: Visit[] };
}
type Login = { username: string; password: string };

/** Short, so "Archive now" can be refused (429) and then accepted within one test. */
const COOLDOWN_SECONDS = 15;
const VISIT_TIMEOUT_MS = 120_000;

/**
 * The Repositories page (the home page) and a repository's own page (issue 10, items 5–7), in
 * real Chromium against the real stack: built frontend on PUBLIC_URL, injector, worker,
 * Keycloak, Postgres, Redis, MinIO, and fixture repositories served over loopback.
 */
describe('web interface: tracked repositories', () => {
  const stack = loadStackSettings();
  const keycloak = KeycloakTestClient.fromEnvironment();
  let publicUrl: string;
  let frontend: AppProcess;
  let fixtures: FixtureRepos;
  let git: GitHttpServerHandle;
  let web: WebApps | undefined;
  let pages: BrowserPages;
  let api: UserApi;
  let tmp: string;

  /** A repository of its own per test (a copy of `multi`), so tests never share a schedule or a cooldown. */
  async function freshRepository(label: string): Promise<{ url: string; dir: string }> {
    const name = uniqueName(label);
    const dir = path.join(fixtures.root, `${name}.git`);
    await fixtureGit(['clone', '--quiet', '--bare', fixtures.multi, dir], fixtures.root);
    return { url: git.url(name), dir };
  }

  async function tracked(user: Login, url: string): Promise<Repository> {
    const response = await api<Repository>(user, 'POST', '/api/repositories', { url });
    expect(response.status).toBe(201);
    return response.body;
  }

  /** Waits until the repository's newest visit (or `archiveId`) has finished. */
  async function visitFinished(user: Login, id: string, archiveId?: string): Promise<Visit> {
    return waitFor(
      `a visit of repository ${id} to finish`,
      async () => {
        const { body } = await api<Repository>(user, 'GET', `/api/repositories/${id}`);
        const visit = archiveId ? body.visits!.items.find((v) => v.id === archiveId) : body.visits!.items[0];
        return visit && ['completed', 'failed'].includes(visit.status) ? visit : undefined;
      },
      VISIT_TIMEOUT_MS,
      500,
    );
  }

  const rowOf = (page: Page, id: string): Locator => page.locator(`tr[data-id="${id}"]`);

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'archiver-web-repositories-'));
    fixtures = await createFixtureRepos(tmp);
    git = await startGitHttpServer({ root: fixtures.root });
    web = await WebApps.start({
      frontendEnv: { REPOSITORY_VISIT_COOLDOWN_SECONDS: String(COOLDOWN_SECONDS) },
      pages: { viewport: { width: 1280, height: 900 } },
    });
    ({ frontend, publicUrl, pages } = web);
    api = userApi(frontend.url, keycloak);
  }, 120_000);

  afterEach(async () => {
    await pages?.closePages();
  });

  afterAll(() => tearDown({ close: [() => web?.stop(), () => git?.stop(), () => keycloak.cleanup()], dirs: [tmp] }));

  it('tracks a repository through the form, shows its first visit complete, and lists the visit on its page', async () => {
    const { url } = await freshRepository('track');
    const { page, problems } = await pages.signedIn(stack.demo);
    await page.getByRole('heading', { name: 'Repositories', level: 1 }).waitFor();

    // Refusals are shown next to the field; nothing is tracked.
    await page.getByLabel('Repository URL').fill('ftp://example.org/x.git');
    await page.getByRole('button', { name: 'Track', exact: true }).click();
    const fieldError = page.getByTestId('track-error');
    await fieldError.waitFor();
    expect(await fieldError.textContent()).toMatch(/\S/);

    await page.getByLabel('Repository URL').fill(url);
    await page.getByRole('button', { name: 'Track', exact: true }).click();
    await page.getByTestId('track-result').locator('[data-existing="false"]').waitFor();
    expect(await fieldError.isVisible()).toBe(false);
    const row = page.getByTestId('repositories-table').locator('tr', { has: page.locator(`a[title="${url}"]`) });
    await row.waitFor();
    const id = (await row.getAttribute('data-id'))!;
    // The first visit stores the first snapshot: the badge settles without a reload.
    await row.locator('[data-testid="repository-badge"][data-state="changed"]').waitFor({ timeout: VISIT_TIMEOUT_MS });
    await saveScreenshot(page, 'repositories-tracked');

    // The same URL again: 200, already tracked.
    await page.getByLabel('Repository URL').fill(url);
    await page.getByRole('button', { name: 'Track', exact: true }).click();
    await page.getByTestId('track-result').locator('[data-existing="true"]').waitFor();

    await row.locator('a.repo-link').click();
    await page.waitForURL(`${publicUrl}/repositories/${id}`);
    const visit = page.getByTestId('visit-timeline').locator('li[data-outcome="changed"]');
    await visit.waitFor();
    const visitId = (await visit.getAttribute('data-id'))!;
    expect(await visit.getByRole('link').getAttribute('href')).toBe(`/archives/${visitId}`);
    await page.getByTestId('schedule').getByText('adaptive', { exact: false }).waitFor();
    expect(await page.locator('[data-mark]').count()).toBe(0);
    await saveScreenshot(page, 'repository-page');

    await visit.getByRole('link').click();
    await page.waitForURL(`${publicUrl}/archives/${visitId}`);
    await page.getByTestId('timeline').locator('li[data-stamp="finishedAt"] time').waitFor();
    expect(problems).toEqual([]);
  }, 180_000);

  it('pauses and resumes a repository from the list, with the reason shown and a state filter', async () => {
    const repository = await tracked(stack.demo, (await freshRepository('pause')).url);
    const { page, problems } = await pages.signedIn(stack.demo);
    const row = rowOf(page, repository.id);
    await row.waitFor();

    await row.locator('[data-action="pause"]').click();
    await row.locator('[data-testid="repository-badge"][data-state="paused"]').waitFor();
    expect(await row.getByTestId('state-reason').textContent()).toContain('paused by demo');
    expect((await api<Repository>(stack.demo, 'GET', `/api/repositories/${repository.id}`)).body.state).toBe('paused');

    await page.getByLabel('State').selectOption('paused');
    await page.waitForURL((u) => u.searchParams.get('state') === 'paused');
    await row.waitFor();
    await page.getByLabel('State').selectOption('active');
    await row.waitFor({ state: 'detached' });
    await page.getByLabel('State').selectOption('');
    await row.waitFor();

    await row.locator('[data-action="resume"]').click();
    await row.locator('[data-action="pause"]').waitFor();
    expect(await row.locator('[data-testid="repository-badge"][data-state="paused"]').count()).toBe(0);
    expect(await row.getByTestId('state-reason').count()).toBe(0);
    expect((await api<Repository>(stack.demo, 'GET', `/api/repositories/${repository.id}`)).body.state).toBe('active');
    expect(problems).toEqual([]);
  }, 120_000);

  it('stops tracking from the repository page only after confirming', async () => {
    const repository = await tracked(stack.demo, (await freshRepository('stop')).url);
    const { page, problems } = await pages.signedIn(stack.demo, `/repositories/${repository.id}`);
    const stop = page.locator('[data-action="untrack"]');
    await stop.click();
    const dialog = page.getByRole('dialog', { name: 'Stop tracking?' });
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect((await api<Repository>(stack.demo, 'GET', `/api/repositories/${repository.id}`)).status).toBe(200);

    await stop.click();
    await dialog.getByRole('button', { name: 'Stop tracking' }).click();
    await page.waitForURL(`${publicUrl}/`);
    await page.getByTestId('last-updated').filter({ hasText: 'Live' }).waitFor();
    expect(await rowOf(page, repository.id).count()).toBe(0);
    expect((await api<Repository>(stack.demo, 'GET', `/api/repositories/${repository.id}`)).status).toBe(404);
    expect(problems).toEqual([]);
  }, 120_000);

  it('queues a visit with "Archive now" and answers a second click within the cooldown politely (429)', async () => {
    const repository = await tracked(stack.demo, (await freshRepository('now')).url);
    await visitFinished(stack.demo, repository.id);
    const { page, problems } = await pages.signedIn(stack.demo);
    const row = rowOf(page, repository.id);
    await row.waitFor();
    /** Clicks "Archive now" and returns the message it produced. */
    const archiveNow = async (): Promise<{ kind: string; text: string }> => {
      await page.evaluate("document.querySelector('[data-testid=repository-messages]').replaceChildren()");
      await row.locator('[data-action="archive-now"]:not([disabled])').click();
      const notice = page.getByTestId('repository-messages').locator('.notice');
      await notice.waitFor();
      return { kind: (await notice.getAttribute('class'))!, text: (await notice.textContent())! };
    };

    // The tracking visit started the cooldown: a click now is told politely when to ask again.
    const early = await archiveNow();
    expect(early.kind).toContain('notice-warning');
    expect(early.text).toMatch(/visited moments ago; a new visit can be queued in \d+ s\.$/);
    // Clicked again until the cooldown is over (a bounded wait on a condition, not a sleep).
    const queued = await waitFor(
      'the cooldown of the first visit to end',
      async () => {
        const answer = await archiveNow();
        return answer.kind.includes('notice-success') ? answer : undefined;
      },
      (COOLDOWN_SECONDS + 30) * 1000,
      1000,
    );
    expect(queued.text).toMatch(/A visit of .* is queued/);
    const visits = (await api<Repository>(stack.demo, 'GET', `/api/repositories/${repository.id}`)).body.visits!.items;
    expect(visits).toHaveLength(2);

    // That visit starts the cooldown again.
    const refused = await archiveNow();
    expect(refused.kind).toContain('notice-warning');
    expect(refused.text).toMatch(/visited moments ago; a new visit can be queued in \d+ s\.$/);
    await saveScreenshot(page, 'repositories-cooldown');
    expect(problems).toEqual([]);
  }, 180_000);

  it('marks a force-push and a deleted branch on the repository page and lists the non-fast-forward ref', async () => {
    const fixture = await freshRepository('rewrite');
    const repository = await tracked(stack.demo, fixture.url);
    const first = await visitFinished(stack.demo, repository.id);
    expect(first.status).toBe('completed');

    // Upstream rewrites main (a new root commit: the old tip is not its ancestor) and drops a branch.
    const rewritten = (await fixtureGit(['commit-tree', 'HEAD^{tree}', '-m', 'history rewritten'], fixture.dir)).toString().trim();
    await fixtureGit(['update-ref', 'refs/heads/main', rewritten], fixture.dir);
    await fixtureGit(['update-ref', '-d', 'refs/heads/release'], fixture.dir);
    // A one-off archive of the same URL is a visit of the repository too (no cooldown applies).
    const second = await api<Visit>(stack.demo, 'POST', '/api/archives', { url: fixture.url });
    expect(second.status).toBe(202);
    expect(await visitFinished(stack.demo, repository.id, second.body.id)).toMatchObject({ status: 'completed', outcome: 'changed' });

    const { page, problems } = await pages.signedIn(stack.demo, `/repositories/${repository.id}`);
    const newest = page.getByTestId('visit-timeline').locator(`li[data-id="${second.body.id}"]`);
    await newest.locator('[data-mark="force-push"]').waitFor();
    await newest.locator('[data-mark="deleted"]').waitFor();
    expect(await newest.locator('[data-mark="force-push"]').textContent()).toBe('force-push');

    // The changes shown by default are the latest change: this visit against the one before.
    const table = page.getByTestId('changes-table');
    const forced = table.locator('tr[data-kind="non_fast_forward"][data-ref="refs/heads/main"]');
    await forced.waitFor();
    expect(await forced.textContent()).toContain('force-push (history rewritten)');
    expect(await forced.textContent()).toContain(rewritten.slice(0, 12));
    await table.locator('tr[data-kind="deleted"][data-ref="refs/heads/release"]').waitFor();
    expect(await page.getByTestId('changes-summary').textContent()).toMatch(/1 force-push.*1 deleted/);
    await saveScreenshot(page, 'repository-force-push');

    // Any two snapshots can be compared: up to the first one, every ref was created and nothing is marked.
    await page.getByLabel('To', { exact: true }).selectOption(first.id);
    await page.getByTestId('changes-summary').filter({ hasNotText: 'force-push' }).waitFor();
    expect(await table.locator('tr[data-kind="created"][data-ref="refs/heads/release"]').count()).toBe(1);
    expect(await table.locator('tbody tr:not([data-kind="created"])').count()).toBe(0);
    expect(problems).toEqual([]);
  }, 240_000);
});

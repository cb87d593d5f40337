import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadStackSettings } from '@archiver/config';
import {
  type AppProcess,
  BrowserPages,
  createFixtureRepos,
  fixtureGit,
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
}
interface Repository {
  id: string;
  visits: { items: Visit[] };
  retention: { policy: Record<string, number> | null; lastPrunedAt: string | null };
}
type Login = { username: string; password: string };

const SNAPSHOTS = 3;

/**
 * The Retention card of a repository's page (issue 11 item 5, in the web interface): anyone
 * who sees the repository tries a policy as a dry run; only an admin saves it and prunes. Real
 * Chromium against the real stack, three changed snapshots of one repository.
 */
describe('web interface: retention', () => {
  const stack = loadStackSettings();
  const keycloak = KeycloakTestClient.fromEnvironment();
  let frontend: AppProcess;
  let git: GitHttpServerHandle;
  let web: WebApps | undefined;
  let pages: BrowserPages;
  let api: UserApi;
  let tmp: string;
  let repository: Repository;

  const completedVisits = async (user: Login) =>
    (await api<Repository>(user, 'GET', `/api/repositories/${repository.id}?visitsPageSize=50`)).body.visits.items.filter(
      (visit) => visit.status === 'completed',
    );

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'archiver-web-retention-'));
    const fixtures = await createFixtureRepos(tmp);
    const name = uniqueName('retention');
    const upstream = path.join(fixtures.root, `${name}.git`);
    await fixtureGit(['clone', '--quiet', '--bare', fixtures.multi, upstream], fixtures.root);
    git = await startGitHttpServer({ root: fixtures.root });
    web = await WebApps.start({
      frontendEnv: { REPOSITORY_VISIT_COOLDOWN_SECONDS: '1' },
      pages: { viewport: { width: 1280, height: 1000 } },
    });
    ({ frontend, pages } = web);
    api = userApi(frontend.url, keycloak);

    // Three snapshots that each changed something: a new commit on main before each revisit.
    const tracked = await api<Repository>(stack.demo, 'POST', '/api/repositories', { url: git.url(name) });
    expect(tracked.status).toBe(201);
    repository = tracked.body;
    for (let n = 1; n <= SNAPSHOTS; n++) {
      await waitFor(`snapshot ${n}`, async () => ((await completedVisits(stack.demo)).length >= n ? true : undefined), 120_000, 500);
      if (n === SNAPSHOTS) break;
      const commit = (await fixtureGit(['commit-tree', 'main^{tree}', '-p', 'main', '-m', `change ${n}`], upstream)).toString().trim();
      await fixtureGit(['update-ref', 'refs/heads/main', commit], upstream);
      await waitFor(
        'the visit cooldown to pass',
        async () => ((await api(stack.demo, 'POST', `/api/repositories/${repository.id}/visits`)).status === 202 ? true : undefined),
        30_000,
        500,
      );
    }
  }, 300_000);

  afterEach(async () => {
    await pages?.closePages();
  });

  afterAll(() => tearDown({ close: [() => web?.stop(), () => git?.stop(), () => keycloak.cleanup()], dirs: [tmp] }));

  it('lets a tracker try a policy as a dry run, without the admin-only buttons', async () => {
    const { page, problems } = await pages.signedIn(stack.demo, `/repositories/${repository.id}`);
    const card = page.getByRole('region', { name: 'Retention' });
    await card.getByTestId('retention-policy').getByText('keep every snapshot').waitFor();
    expect(await card.getByRole('button', { name: 'Save policy' }).count()).toBe(0);
    expect(await card.getByRole('button', { name: 'Prune now' }).count()).toBe(0);

    await card.getByLabel('Last').fill('1');
    await card.getByRole('button', { name: 'Preview' }).click();
    await card.getByText(`${SNAPSHOTS - 1} of ${SNAPSHOTS} snapshots would be removed`).waitFor();
    expect(await card.getByTestId('retention-kept').locator('li').count()).toBe(1);
    expect(await card.getByTestId('retention-removed').locator('li').count()).toBe(SNAPSHOTS - 1);

    // A count that is not a whole number is named, and nothing is asked of the server.
    await card.getByLabel('Daily').fill('-2');
    await card.getByRole('button', { name: 'Preview' }).click();
    await card.getByText('Daily: enter a whole number, 0 or more.').waitFor();
    expect(problems).toEqual([]);
  });

  it('lets an admin save the policy and prune now; the page then shows the last prune', async () => {
    const { page, problems } = await pages.signedIn(stack.admin, `/repositories/${repository.id}`);
    const card = page.getByRole('region', { name: 'Retention' });
    await card.getByTestId('retention-policy').waitFor();

    // Pruning with no saved policy is refused with the server's reason.
    await card.getByRole('button', { name: 'Prune now' }).click();
    await card
      .getByTestId('retention-result')
      .getByText(/keeps every snapshot|NO_RETENTION_POLICY|no retention policy/i)
      .waitFor();

    await card.getByLabel('Last').fill('1');
    await card.getByRole('button', { name: 'Save policy' }).click();
    await card.getByText('Saved. Prunes run on the schedule').waitFor();
    await card.getByTestId('retention-policy').getByText('keep last 1').waitFor();
    expect((await api<Repository>(stack.admin, 'GET', `/api/repositories/${repository.id}`)).body.retention.policy).toMatchObject({
      keepLast: 1,
    });

    await card.getByRole('button', { name: 'Prune now' }).click();
    await card.getByText('Prune queued').waitFor();
    await waitFor(
      'the prune to leave one snapshot',
      async () => ((await completedVisits(stack.admin)).length === 1 ? true : undefined),
      120_000,
      500,
    );
    await card.getByText(/Last pruned .*2 removed, 1 kept/).waitFor({ timeout: 30_000 });
    await saveScreenshot(page, 'retention-card');
    expect(problems).toEqual([]);
  });
});

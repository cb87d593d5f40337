import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '@archiver/config';
import { PrismaService } from '@archiver/database';
import {
  ApiClient,
  AppProcess,
  completedArchive,
  createFixtureRepos,
  fixtureGit,
  GitHttpServerHandle,
  gitText,
  KeycloakTestClient,
  refsOf,
  restoreFromDownload,
  settledArchive,
  startApp,
  startGitHttpServer,
  tearDown,
  uniqueName,
} from '@archiver/testing';

const git = gitText;

interface Change {
  ref: string;
  kind: string;
  oldSha: string | null;
  newSha: string | null;
}
interface Changes {
  from: { id: string } | null;
  to: { id: string } | null;
  summary: Record<string, number>;
  changes: Change[];
}
interface Visit {
  id: string;
  status: string;
  outcome: string | null;
  changes: Record<string, number> | null;
}

// A tracked repository whose upstream fast-forwards, force-pushes, deletes a branch, moves a tag
// and creates a branch, on the real stack: each visit records how the refs moved, the changes
// API reports it over any range, and the snapshot before the rewrite still restores the old
// history with plain git.
describe('ref changes between snapshots', () => {
  const config = loadConfig();
  const prisma = new PrismaService(config);
  const keycloak = KeycloakTestClient.fromEnvironment();
  const workDir = path.join(os.tmpdir(), `archiver-ref-changes-${process.pid}`);
  const apps: AppProcess[] = [];
  let http: GitHttpServerHandle;
  let api: ApiClient;
  let otherToken: string;
  let scratch: string;
  let upstream: string;
  let repositoryId: string;

  const sha = async (rev: string) => (await fixtureGit(['rev-parse', rev], upstream)).toString().trim();
  const changes = async (query = '') => {
    const response = await api.call<Changes>('GET', `/api/repositories/${repositoryId}/changes${query}`);
    expect(response.status).toBe(200);
    return response.body;
  };
  const errorOf = async (query: string, token?: string) => {
    const response = await api.call<{ error: { code: string; message: string } }>(
      'GET',
      `/api/repositories/${repositoryId}/changes${query}`,
      {
        token,
      },
    );
    return { status: response.status, ...response.body.error };
  };
  const visitNow = async () => (await completedArchive(api, http.url('history.git'))).id;
  const visits = async () => (await api.call<{ visits: { items: Visit[] } }>('GET', `/api/repositories/${repositoryId}`)).body.visits.items;
  const restore = async (archiveId: string) => (await restoreFromDownload(api, archiveId, scratch)).gitDir;

  beforeAll(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'archiver-ref-changes-fixtures-'));
    const fixtures = await createFixtureRepos(scratch);
    upstream = path.join(fixtures.root, 'history.git');
    await git(['clone', '--quiet', '--bare', fixtures.multi, upstream]);
    http = await startGitHttpServer({ root: fixtures.root });
    const frontend = await startApp('frontend');
    apps.push(frontend, await startApp('injector'), await startApp('worker', { ARCHIVER_WORK_DIR: workDir }));
    const [owner, other] = await Promise.all(
      ['owner', 'other'].map((name) => keycloak.createUser({ username: uniqueName(name), realmRoles: ['archiver-user'] })),
    );
    api = new ApiClient(frontend.url, await keycloak.passwordToken(owner!.username, owner!.password));
    otherToken = await keycloak.passwordToken(other!.username, other!.password);
  });

  afterAll(() => tearDown({ apps, close: [() => prisma.$disconnect(), () => http?.stop()], dirs: [scratch, workDir] }));

  it('tracks every kind of ref move, over any range, and keeps rewritten history restorable from the earlier snapshot', async () => {
    const tracked = await api.call<{ id: string; lastVisit: { archiveId: string } }>('POST', '/api/repositories', {
      json: { url: http.url('history.git') },
    });
    expect(tracked.status).toBe(201);
    repositoryId = tracked.body.id;
    const first = (await settledArchive(api, tracked.body.lastVisit.archiveId)).id;
    const firstRefs = await refsOf(upstream);

    // The first snapshot: every ref created, counted from nothing.
    const initial = await changes();
    expect(initial).toMatchObject({ from: null, to: { id: first }, summary: { created: 5, deleted: 0, nonFastForward: 0 } });
    expect(initial.changes.map((c) => [c.ref, c.kind])).toEqual([
      ['refs/heads/feature/x', 'created'],
      ['refs/heads/main', 'created'],
      ['refs/heads/release', 'created'],
      ['refs/tags/v1.0', 'created'],
      ['refs/tags/v2.0', 'created'],
    ]);

    // Upstream: main fast-forwards, feature/x is force-pushed onto unrelated history, release is
    // deleted, the lightweight tag v1.0 moves, and a new branch appears.
    const [oldMain, oldFeature, oldRelease, oldTag] = await Promise.all(['main', 'feature/x', 'release', 'refs/tags/v1.0'].map(sha));
    const newMain = (await fixtureGit(['commit-tree', 'main^{tree}', '-p', 'main', '-m', 'onwards'], upstream)).toString().trim();
    const rewritten = (await fixtureGit(['commit-tree', 'feature/x^{tree}', '-m', 'history rewritten'], upstream)).toString().trim();
    await fixtureGit(['update-ref', 'refs/heads/main', newMain], upstream);
    await fixtureGit(['update-ref', 'refs/heads/feature/x', rewritten], upstream);
    await fixtureGit(['update-ref', '-d', 'refs/heads/release'], upstream);
    await fixtureGit(['update-ref', 'refs/tags/v1.0', newMain], upstream);
    await fixtureGit(['update-ref', 'refs/heads/new', newMain], upstream);
    await fixtureGit(['gc', '--quiet', '--prune=now'], upstream);
    const second = await visitNow();

    const expected: Change[] = [
      { ref: 'refs/heads/feature/x', kind: 'non_fast_forward', oldSha: oldFeature, newSha: rewritten },
      { ref: 'refs/heads/main', kind: 'fast_forward', oldSha: oldMain, newSha: newMain },
      { ref: 'refs/heads/new', kind: 'created', oldSha: null, newSha: newMain },
      { ref: 'refs/heads/release', kind: 'deleted', oldSha: oldRelease, newSha: null },
      { ref: 'refs/tags/v1.0', kind: 'tag_moved', oldSha: oldTag, newSha: newMain },
    ];
    const latest = await changes();
    expect(latest).toMatchObject({ from: { id: first }, to: { id: second } });
    expect(latest.changes).toEqual(expected);
    expect(latest.summary).toEqual({ created: 1, deleted: 1, fastForward: 1, nonFastForward: 1, tagMoved: 1 });
    expect((await visits()).map((v) => [v.id, v.outcome, v.changes])).toEqual([
      [second, 'changed', latest.summary],
      [first, 'changed', initial.summary],
    ]);

    // Nothing of the earlier snapshot was lost: it restores its own refs, and the commits the
    // force-push and the deletion dropped upstream (the upstream pruned them) are all there.
    const restored = await restore(first);
    expect(await refsOf(restored)).toBe(firstRefs);
    for (const commit of [oldFeature, oldRelease]) await git(['cat-file', '-e', `${commit}^{commit}`], restored);
    await expect(fixtureGit(['cat-file', '-e', `${oldFeature}^{commit}`], upstream)).rejects.toThrow();

    // An unchanged visit changes nothing; the default range stays on the last real change.
    const third = await visitNow();
    expect((await visits())[0]).toMatchObject({ id: third, outcome: 'unchanged', changes: { created: 0, deleted: 0, nonFastForward: 0 } });
    expect((await changes()).to).toEqual(expect.objectContaining({ id: second }));
    expect((await changes(`?from=${second}&to=${third}`)).changes).toEqual([]);
    expect((await changes(`?from=${first}&to=${third}`)).changes).toEqual(expected);

    // Another fast-forward of main: over the whole range main is still a fast-forward, the
    // force-pushed branch still reported as rewritten.
    const newerMain = (await fixtureGit(['commit-tree', 'main^{tree}', '-p', 'main', '-m', 'further'], upstream)).toString().trim();
    await fixtureGit(['update-ref', 'refs/heads/main', newerMain], upstream);
    const fourth = await visitNow();
    expect((await changes()).changes).toEqual([{ ref: 'refs/heads/main', kind: 'fast_forward', oldSha: newMain, newSha: newerMain }]);
    const whole = await changes(`?from=${first}&to=${fourth}`);
    expect(whole.changes).toEqual(expected.map((c) => (c.ref === 'refs/heads/main' ? { ...c, newSha: newerMain } : c)));
    expect((await changes(`?to=${first}`)).changes.map((c) => c.kind)).toEqual(Array(5).fill('created'));

    // Ranges that name no history get a 400 saying why; someone else's repository does not exist.
    for (const query of [`?from=${second}&to=${second}`, `?from=${fourth}&to=${first}`, `?from=${crypto.randomUUID()}`, '?to=not-an-id']) {
      const refused = await errorOf(query);
      expect([refused.status, refused.code]).toEqual([400, query.includes('not-an-id') ? 'INVALID_REQUEST' : 'INVALID_RANGE']);
      expect(refused.message).toMatch(/from|to/);
    }
    expect(await errorOf('', otherToken)).toMatchObject({ status: 404 });

    // A visit from before change recording in the range: the API says it does not know.
    await prisma.$executeRaw`UPDATE archive SET change_summary = NULL WHERE id = ${third}::uuid`;
    expect(await errorOf(`?from=${first}&to=${fourth}`)).toMatchObject({ status: 409, code: 'CHANGES_UNAVAILABLE' });
    expect((await changes(`?from=${third}&to=${fourth}`)).changes).toHaveLength(1);
  });
});

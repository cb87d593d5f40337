import { createHash, randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { Queue } from 'bullmq';
import { loadConfig, loadStackSettings } from '@archiver/config';
import { ArchiveRepository, PrismaService } from '@archiver/database';
import { QueueName, redisOptions } from '@archiver/queue';
import { bucketNameFor, bundleKey, fileKey, manifestKey, ObjectStoreRepository, snapshotPrefix } from '@archiver/storage';
import {
  ApiClient,
  type ApiErrorBody,
  type ApiRequestOptions,
  type ArchiveView,
  type FixtureRepos,
  type FrontendOnly,
  type GitHttpServerHandle,
  KeycloakTestClient,
  startFrontendOnly,
  stopFrontendOnly,
  type TestUser,
  uniqueName,
} from '@archiver/testing';

// Listing, reading, downloading and deleting archives through the REST API of a real frontend
// process, against the test stack with real tokens. No injector or worker runs here: a test moves
// an archive on through the repository and writes its snapshot to MinIO, as those processes would.

const run = promisify(execFile);

describe('REST API: reading and removing archives', () => {
  const config = loadConfig();
  const stack = loadStackSettings();
  const prisma = new PrismaService(config);
  const archives = new ArchiveRepository(prisma);
  const store = new ObjectStoreRepository(config.minio);
  const pendingQueue = new Queue(QueueName.Pending, { connection: redisOptions(config.redis.url, 'producer') });
  const keycloak = KeycloakTestClient.fromEnvironment();

  let stage: FrontendOnly | undefined;
  let workDir: string;
  let repos: FixtureRepos;
  let git: GitHttpServerHandle;
  const tokens: Record<'demo' | 'admin' | 'other', string> = {} as never;
  let other: TestUser;

  let client: ApiClient;
  const api = (method: string, route: string, options?: ApiRequestOptions) => client.call(method, route, options);
  const submit = (url: string, token = tokens.demo) => api('POST', '/api/archives', { token, json: { url } });
  const repoUrl = (name: string) => git.url(`${name}-${uniqueName('r')}`);

  beforeAll(async () => {
    stage = await startFrontendOnly(pendingQueue, 'api');
    ({ workDir, repos, git, client } = stage);
    other = await keycloak.createUser({ username: uniqueName('other'), realmRoles: ['archiver-user'] });
    [tokens.demo, tokens.admin, tokens.other] = await Promise.all([
      keycloak.passwordToken(stack.demo.username, stack.demo.password),
      keycloak.passwordToken(stack.admin.username, stack.admin.password),
      keycloak.passwordToken(other.username, other.password),
    ]);
  });

  afterAll(() => stopFrontendOnly(stage, { prisma, store, pendingQueue, keycloak }));

  describe('GET /api/archives', () => {
    let lister: TestUser;
    let listerToken: string;
    const created: string[] = [];

    beforeAll(async () => {
      lister = await keycloak.createUser({ username: uniqueName('lister'), realmRoles: ['archiver-user'] });
      listerToken = await keycloak.passwordToken(lister.username, lister.password);
      for (let i = 0; i < 5; i++) created.push(((await submit(repoUrl(`list-${i}`), listerToken)).body as ArchiveView).id);
      await archives.markFailed(created[1], 'NOT_FOUND', 'Repository not found', new Date());
    });

    it('pages through your own archives, newest first', async () => {
      const pages = await Promise.all([1, 2, 3].map((page) => api('GET', `/api/archives?page=${page}&pageSize=2`, { token: listerToken })));

      expect(pages.map((p) => p.status)).toEqual([200, 200, 200]);
      expect(pages.map((p) => (p.body as { items: unknown[] }).items.length)).toEqual([2, 2, 1]);
      expect(pages[0].body).toMatchObject({ total: 5, page: 1, pageSize: 2 });
      const ids = pages.flatMap((p) => (p.body as { items: ArchiveView[] }).items.map((a) => a.id));
      expect(ids).toEqual([...created].reverse());
    });

    it('defaults to page 1 of 20 and filters by status', async () => {
      const all = await api('GET', '/api/archives', { token: listerToken });
      expect(all.body).toMatchObject({ total: 5, page: 1, pageSize: 20 });

      const failed = await api('GET', '/api/archives?status=failed', { token: listerToken });
      expect(failed.body).toMatchObject({
        total: 1,
        items: [{ id: created[1], status: 'failed', error: { code: 'NOT_FOUND', message: 'Repository not found' } }],
      });
      const pending = await api('GET', '/api/archives?status=pending&pageSize=100', { token: listerToken });
      expect((pending.body as { items: ArchiveView[] }).items.map((a) => a.id)).toEqual([created[4], created[3], created[2], created[0]]);
    });

    it("lists only the caller's own archives by default and with scope=mine, for an admin too", async () => {
      const adminOwn = (await submit(repoUrl('admin-own'), tokens.admin)).body as ArchiveView;
      for (const query of ['', '&scope=mine']) {
        const response = await api('GET', `/api/archives?pageSize=100${query}`, { token: tokens.admin });
        expect(response.status).toBe(200);
        const items = (response.body as { items: ArchiveView[] }).items;
        expect(items.map((a) => a.id)).toContain(adminOwn.id);
        expect(items.filter((a) => a.requestedBy !== adminOwn.requestedBy)).toEqual([]);
        expect(items.map((a) => a.id)).not.toContain(created[0]);
      }
    });

    it("shows an admin everyone's archives with scope=all, each with its requester's user name", async () => {
      const response = await api('GET', '/api/archives?scope=all&pageSize=100', { token: tokens.admin });
      expect(response.status).toBe(200);
      const items = (response.body as { items: ArchiveView[] }).items;
      expect(items.map((a) => a.id)).toEqual(expect.arrayContaining(created));
      const listed = items.filter((a) => created.includes(a.id));
      expect(new Set(listed.map((a) => a.requestedByName))).toEqual(new Set([lister.username]));
      expect((response.body as { total: number }).total).toBeGreaterThanOrEqual(5);
    });

    it('refuses scope=all to a user without archiver-admin (403 FORBIDDEN)', async () => {
      const response = await api('GET', '/api/archives?scope=all', { token: listerToken });
      expect(response.status).toBe(403);
      expect((response.body as ApiErrorBody).error).toMatchObject({
        code: 'FORBIDDEN',
        message: expect.stringContaining('archiver-admin'),
      });
    });

    it.each([['status=done'], ['page=0'], ['pageSize=101'], ['page=abc'], ['scope=everyone']])('refuses ?%s with 400', async (query) => {
      const response = await api('GET', `/api/archives?${query}`, { token: listerToken });
      expect(response.status).toBe(400);
      expect((response.body as ApiErrorBody).error.code).toBe('INVALID_REQUEST');
    });

    it('counts your archives by status in /api/stats; an admin sees at least as many', async () => {
      const mine = await api('GET', '/api/stats', { token: listerToken });
      expect(mine.status).toBe(200);
      expect(mine.body).toMatchObject({
        counts: { pending: 4, queued: 0, running: 0, completed: 0, failed: 1 },
        totals: { files: 0, bytes: 0 },
        stages: { wait: { meanMs: null, p95Ms: null }, inject: { meanMs: null, p95Ms: null }, run: { meanMs: null, p95Ms: null } },
      });
      const perHour = (mine.body as { perHour: Array<{ hour: string; count: number }> }).perHour;
      expect(perHour.reduce((sum, h) => sum + h.count, 0)).toBe(5);
      expect(perHour[0].hour).toMatch(/^\d{4}-\d\d-\d\dT\d\d:00:00\.000Z$/);

      const all = await api('GET', '/api/stats', { token: tokens.admin });
      expect((all.body as { counts: { pending: number } }).counts.pending).toBeGreaterThanOrEqual(4);
    });
  });

  describe('GET /api/archives/:id', () => {
    it("hides another user's archive (404) from its owner's peers but not from an admin", async () => {
      const theirs = (await submit(repoUrl('private'), tokens.other)).body as ArchiveView;

      const asDemo = await api('GET', `/api/archives/${theirs.id}`, { token: tokens.demo });
      expect(asDemo.status).toBe(404);
      expect(asDemo.body).toEqual({ error: { code: 'NOT_FOUND', message: expect.stringContaining(theirs.id) } });
      expect((await api('GET', `/api/archives/${theirs.id}/download`, { token: tokens.demo })).status).toBe(404);

      const asOwner = await api('GET', `/api/archives/${theirs.id}`, { token: tokens.other });
      expect(asOwner.status).toBe(200);
      expect(asOwner.body).toMatchObject({ id: theirs.id, requestedBy: other.id, requestedByName: other.username });
      const asAdmin = await api('GET', `/api/archives/${theirs.id}`, { token: tokens.admin });
      expect(asAdmin.status).toBe(200);
    });

    it.each([['00000000-0000-4000-8000-000000000000'], ['not-a-uuid'], ["1' OR '1'='1"]])('answers 404 for the id %s', async (id) => {
      const response = await api('GET', `/api/archives/${encodeURIComponent(id)}`, { token: tokens.demo });
      expect(response.status).toBe(404);
      expect((response.body as ApiErrorBody).error.code).toBe('NOT_FOUND');
    });
  });

  describe('a completed snapshot: download and DELETE', () => {
    it('presigns the bundle, restores with the given command, and is removed with its objects and bucket', async () => {
      // Drive the archive through the stages the injector and a worker would, and store a real
      // bundle of the fixture repository where a worker would put it.
      const submitted = (await submit(repoUrl('snap'))).body as ArchiveView;
      expect((await api('GET', `/api/archives/${submitted.id}/download`, { token: tokens.demo })).body).toMatchObject({
        error: { code: 'NO_BUNDLE' },
      });
      await pendingQueue.remove(submitted.id);
      const bucket = bucketNameFor(submitted.normalizedUrl);
      const prefix = snapshotPrefix(new Date(), submitted.id);
      await archives.markQueued(submitted.id, new Date());
      const runId = randomUUID();
      await archives.claimRun(submitted.id, runId, 60_000, new Date());
      await archives.setSnapshotLocation(submitted.id, runId, bucket, prefix);
      await store.ensureBucket(bucket);
      const bundlePath = path.join(workDir, 'source.bundle');
      await run('git', ['-C', repos.multi, 'bundle', 'create', bundlePath, '--all']);
      const bundleBytes = await readFile(bundlePath);
      await store.putBuffer(bucket, bundleKey(prefix), bundleBytes);
      await store.putBuffer(bucket, fileKey(prefix, 'README.md'), Buffer.from('# multi\n'));
      // The manifest's bundle is what the download serves (a version-2 manifest: one full bundle).
      const bundle = { key: bundleKey(prefix), size: bundleBytes.length, sha256: createHash('sha256').update(bundleBytes).digest('hex') };
      await store.putBuffer(bucket, manifestKey(prefix), Buffer.from(JSON.stringify({ version: 2, archiveId: submitted.id, bundle })));
      const headCommit = (await run('git', ['-C', repos.multi, 'rev-parse', 'refs/heads/main'])).stdout.trim();
      await archives.markCompleted(submitted.id, runId, { commit: headCommit, refCount: 6, fileCount: 1, byteCount: 8n }, new Date());

      const view = await api('GET', `/api/archives/${submitted.id}`, { token: tokens.demo });
      expect(view.body).toMatchObject({ status: 'completed', bucket, prefix, commit: headCommit, fileCount: 1, byteCount: 8 });
      // The console signs in with MinIO root credentials: its link is for admins only.
      expect((view.body as { consoleUrl: string | null }).consoleUrl).toBeNull();
      const asAdmin = await api('GET', `/api/archives/${submitted.id}`, { token: tokens.admin });
      expect((asAdmin.body as { consoleUrl: string }).consoleUrl).toBe(
        `${config.minio.consoleUrl}/browser/${bucket}/${encodeURIComponent(prefix)}`,
      );
      // Every stage was stamped, so every duration is a number ≥ 0 (an empty object must not pass).
      const { durations } = view.body as ArchiveView;
      expect(Object.keys(durations).sort()).toEqual(['injectMs', 'runMs', 'totalMs', 'waitMs']);
      expect(Object.values(durations).filter((ms) => typeof ms === 'number' && ms >= 0)).toHaveLength(4);

      const download = await api('GET', `/api/archives/${submitted.id}/download`, { token: tokens.demo });
      expect(download.status).toBe(200);
      const link = download.body as { url: string; expiresInSeconds: number; cloneCommand: string };
      expect(link.expiresInSeconds).toBe(300);
      expect(link.cloneCommand).toMatch(/^git clone repo\.bundle snap-r-[0-9a-f]{8}$/);
      const fetched = await fetch(link.url, { signal: AbortSignal.timeout(20_000) });
      expect(fetched.status).toBe(200);
      const restoreDir = await mkdtemp(path.join(workDir, 'restore-'));
      await writeFile(path.join(restoreDir, 'repo.bundle'), Buffer.from(await fetched.arrayBuffer()));
      const [cmd, ...args] = link.cloneCommand.split(' ');
      await run(cmd, args, { cwd: restoreDir });
      const restored = (await run('git', ['-C', path.join(restoreDir, args[2]), 'rev-parse', 'refs/remotes/origin/main'])).stdout.trim();
      expect(restored).toBe(headCommit);

      expect((await api('DELETE', `/api/archives/${submitted.id}`, { token: tokens.demo })).status).toBe(403);
      const deleted = await api('DELETE', `/api/archives/${submitted.id}`, { token: tokens.admin });
      expect(deleted.status).toBe(204);
      expect(deleted.text).toBe('');
      expect(await archives.findById(submitted.id)).toBeNull();
      expect(await store.bucketExists(bucket)).toBe(false);
      expect((await api('GET', `/api/archives/${submitted.id}`, { token: tokens.demo })).status).toBe(404);
    });

    it('keeps the bucket while another completed snapshot lives in it', async () => {
      const url = repoUrl('two-snaps');
      const bucket = bucketNameFor(url.replace(/\.git$/, ''));
      const ids: string[] = [];
      for (const when of [new Date(Date.now() - 1000), new Date()]) {
        const id = ((await submit(url)).body as ArchiveView).id;
        ids.push(id);
        const prefix = snapshotPrefix(when, id);
        await archives.markQueued(id, new Date());
        const runId = randomUUID();
        await archives.claimRun(id, runId, 60_000, new Date());
        await archives.setSnapshotLocation(id, runId, bucket, prefix);
        await store.ensureBucket(bucket);
        await store.putBuffer(bucket, manifestKey(prefix), Buffer.from('{}'));
        await archives.markCompleted(id, runId, { commit: null, refCount: 0, fileCount: 0, byteCount: 0n }, new Date());
      }

      expect((await api('DELETE', `/api/archives/${ids[0]}`, { token: tokens.admin })).status).toBe(204);
      expect(await store.bucketExists(bucket)).toBe(true);
      expect(await store.listAllObjects(bucket, 'snapshots/')).toHaveLength(1);
      // The empty-repository snapshot has no bundle to hand out.
      expect((await api('GET', `/api/archives/${ids[1]}/download`, { token: tokens.demo })).body).toMatchObject({
        error: { code: 'NO_BUNDLE' },
      });
      expect((await api('DELETE', `/api/archives/${ids[1]}`, { token: tokens.admin })).status).toBe(204);
      expect(await store.bucketExists(bucket)).toBe(false);
    });

    it('refuses to delete an active archive (409) and deletes a failed one without a snapshot', async () => {
      const pending = (await submit(repoUrl('busy'))).body as ArchiveView;
      const conflict = await api('DELETE', `/api/archives/${pending.id}`, { token: tokens.admin });
      expect(conflict.status).toBe(409);
      expect(conflict.body).toEqual({ error: { code: 'ARCHIVE_ACTIVE', message: expect.stringContaining('wait until it finishes') } });
      expect(await archives.findById(pending.id)).not.toBeNull();

      await archives.markFailed(pending.id, 'NOT_FOUND', 'Repository not found', new Date());
      expect((await api('DELETE', `/api/archives/${pending.id}`, { token: tokens.admin })).status).toBe(204);
      expect((await api('DELETE', `/api/archives/${pending.id}`, { token: tokens.admin })).status).toBe(404);
    });
  });
});

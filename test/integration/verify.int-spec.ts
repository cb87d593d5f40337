import { createHash } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, loadStackSettings } from '@archiver/config';
import { ArchiveRepository, PrismaService, VerificationRepository } from '@archiver/database';
import { encodeTreeListing, manifestKey, ObjectStoreRepository, readTreeListing, treeListingKey } from '@archiver/storage';
import {
  ApiClient,
  AppProcess,
  commitOnBranch,
  completedVisit,
  createFixtureRepos,
  GitHttpServerHandle,
  gitText,
  KeycloakTestClient,
  type ManifestWithFiles,
  readManifestWithFiles,
  settledArchive,
  startApp,
  startGitHttpServer,
  tearDown,
  waitFor,
} from '@archiver/testing';

interface Verification {
  status: 'unverified' | 'passed' | 'failed';
  checkedAt: string | null;
  verifiedAt: string | null;
  error: { code: string; message: string } | null;
}

// Restore drills on the real stack: a worker restores a snapshot's bundle chain, fscks it,
// compares refs and every stored file with the manifest, and records the result. Damage done
// to the bucket behind the archiver's back (a changed increment, a deleted or altered file
// object) is found, named, and shown on the repository's page.
describe('restore drills', () => {
  const config = loadConfig();
  const stack = loadStackSettings();
  const store = new ObjectStoreRepository(config.minio);
  const prisma = new PrismaService(config);
  const archives = new ArchiveRepository(prisma);
  const verifications = new VerificationRepository(prisma);
  const keycloak = KeycloakTestClient.fromEnvironment();
  const workDir = path.join(os.tmpdir(), `archiver-verify-${process.pid}`);
  const apps: AppProcess[] = [];
  let http: GitHttpServerHandle;
  let api: ApiClient;
  let adminToken: string;
  let scratch: string;
  let fixturesRoot: string;
  let multi: string;

  const newUpstream = async (name: string) => {
    await gitText(['clone', '--quiet', '--bare', multi, path.join(fixturesRoot, `${name}.git`)]);
    return path.join(fixturesRoot, `${name}.git`);
  };
  const visit = async (name: string) => {
    const { view: done, row } = await completedVisit(api, archives, http.url(`${name}.git`), 120_000);
    const manifest: ManifestWithFiles = await readManifestWithFiles(store, row.bucket!, row.prefix!);
    return { id: done.id, bucket: row.bucket!, prefix: row.prefix!, manifest, repositoryId: row.repositoryId };
  };
  const verificationOf = async (id: string) =>
    (await api.call<{ verification: Verification }>('GET', `/api/archives/${id}`)).body.verification;
  /** Asks for a drill and waits for its result: a check newer than the one before the request. */
  const verify = async (id: string): Promise<Verification> => {
    const before = (await verificationOf(id)).checkedAt;
    const accepted = await api.call<{ queued: boolean; verification: Verification }>('POST', `/api/archives/${id}/verify`);
    expect(accepted.status).toBe(202);
    return waitFor(
      `the drill of ${id}`,
      async () => {
        const verification = await verificationOf(id);
        return verification.checkedAt !== null && verification.checkedAt !== before ? verification : undefined;
      },
      90_000,
      250,
    );
  };

  beforeAll(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'archiver-verify-fixtures-'));
    const fixtures = await createFixtureRepos(scratch);
    fixturesRoot = fixtures.root;
    multi = fixtures.multi;
    http = await startGitHttpServer({ root: fixtures.root });
    const frontend = await startApp('frontend');
    apps.push(frontend, await startApp('injector'), await startApp('worker', { ARCHIVER_WORK_DIR: workDir }));
    api = new ApiClient(frontend.url, await keycloak.passwordToken(stack.demo.username, stack.demo.password));
    adminToken = await keycloak.passwordToken(stack.admin.username, stack.admin.password);
  });

  afterAll(() =>
    tearDown({ apps, close: [() => store.close(), () => prisma.$disconnect(), () => http?.stop()], dirs: [scratch, workDir] }),
  );

  it('passes a full snapshot, an incremental one and an unchanged visit', async () => {
    const upstream = await newUpstream('good');
    const first = await visit('good');
    await commitOnBranch(upstream, 'main', 'second');
    const second = await visit('good');
    const unchanged = await visit('good');
    expect([first.manifest.bundleKind, second.manifest.bundleKind, unchanged.manifest.outcome]).toEqual([
      'full',
      'incremental',
      'unchanged',
    ]);

    for (const snapshot of [first, second, unchanged]) {
      const result = await verify(snapshot.id);
      expect(result).toMatchObject({ status: 'passed', error: null });
      expect(result.verifiedAt).toBe(result.checkedAt);
    }
  });

  it('names a corrupted increment (CORRUPT_BUNDLE) and keeps passing the snapshot before it', async () => {
    const upstream = await newUpstream('bad-bundle');
    const first = await visit('bad-bundle');
    await commitOnBranch(upstream, 'main', 'second');
    const second = await visit('bad-bundle');
    const increment = second.manifest.bundle!;
    expect(second.manifest.bundleKind).toBe('incremental');

    // Same size, other bytes: only the checksum can tell.
    await store.putBuffer(second.bucket, increment.key, Buffer.alloc(increment.size, 0x2a));
    const failed = await verify(second.id);
    expect(failed).toMatchObject({ status: 'failed', verifiedAt: null, error: { code: 'CORRUPT_BUNDLE' } });
    expect(failed.error!.message).toContain(increment.key);
    // The snapshot before it does not depend on the increment.
    expect(await verify(first.id)).toMatchObject({ status: 'passed' });

    // Git's own check, when the manifest's checksum was changed to match the damaged bytes.
    const damaged = Buffer.from('# v2 git bundle\nnot a bundle at all\n');
    const forged = { size: damaged.length, sha256: createHash('sha256').update(damaged).digest('hex') };
    const manifest = {
      ...second.manifest,
      bundle: { ...increment, ...forged },
      bundleChain: second.manifest.bundleChain!.map((link) => (link.key === increment.key ? { ...link, ...forged } : link)),
    };
    await store.putBuffer(second.bucket, increment.key, damaged);
    await store.putBuffer(second.bucket, manifestKey(second.prefix), Buffer.from(JSON.stringify(manifest)));
    const refused = await verify(second.id);
    expect(refused).toMatchObject({ status: 'failed', error: { code: 'CORRUPT_BUNDLE' } });
    expect(refused.error!.message).toMatch(new RegExp(`git refuses bundle ${increment.key}`));
  });

  it('finds a deleted file object (MISSING_OBJECT) and altered file bytes (FILE_CHECKSUM_MISMATCH), and passes again once repaired', async () => {
    await newUpstream('bad-file');
    const snapshot = await visit('bad-file');
    const file = snapshot.manifest.files.find((f) => f.key.startsWith('objects/') && f.size > 0)!;
    expect(file).toBeDefined();
    const original = await readAll(await store.getObject(snapshot.bucket, file.key));

    await store.removeObject(snapshot.bucket, file.key);
    const missing = await verify(snapshot.id);
    expect(missing).toMatchObject({ status: 'failed', error: { code: 'MISSING_OBJECT' } });
    expect(missing.error!.message).toContain(file.key);

    // Shown on the repository's page: the count, and the visit with its reason.
    const page = await api.call<{ failedVerifications: number; visits: { items: { id: string; verification: Verification }[] } }>(
      'GET',
      `/api/repositories/${snapshot.repositoryId}`,
      { token: adminToken },
    );
    expect(page.status).toBe(200);
    expect(page.body.failedVerifications).toBe(1);
    expect(page.body.visits.items.find((v) => v.id === snapshot.id)?.verification).toMatchObject({
      status: 'failed',
      error: { code: 'MISSING_OBJECT' },
    });

    for (const altered of [Buffer.concat([original, Buffer.from('x')]), Buffer.from(original.map((b) => b ^ 1))]) {
      await store.putBuffer(snapshot.bucket, file.key, altered);
      const mismatch = await verify(snapshot.id);
      expect(mismatch).toMatchObject({ status: 'failed', error: { code: 'FILE_CHECKSUM_MISMATCH' } });
      expect(mismatch.error!.message).toContain(file.key);
    }

    await store.putBuffer(snapshot.bucket, file.key, original);
    expect(await verify(snapshot.id)).toMatchObject({ status: 'passed', error: null });
  });

  it('finds a deleted directory listing (MISSING_OBJECT) and one that lists another tree (FILE_CHECKSUM_MISMATCH)', async () => {
    await newUpstream('bad-listing');
    const snapshot = await visit('bad-listing');
    expect(snapshot.manifest).toMatchObject({ version: 4, tree: expect.stringMatching(/^[0-9a-f]{40}$/) });
    const key = treeListingKey(snapshot.manifest.tree!);
    const original = await readAll(await store.getObject(snapshot.bucket, key));

    await store.removeObject(snapshot.bucket, key);
    const missing = await verify(snapshot.id);
    expect(missing).toMatchObject({ status: 'failed', error: { code: 'MISSING_OBJECT' } });
    expect(missing.error!.message).toContain(key);

    // A listing that hides a file still decodes; only its tree id gives it away.
    await store.putBuffer(snapshot.bucket, key, original);
    const entries = await readTreeListing(store, snapshot.bucket, snapshot.manifest.tree!);
    const firstBlob = entries.findIndex((entry) => entry.type === 'blob');
    expect(firstBlob).toBeGreaterThanOrEqual(0);
    await store.putBuffer(snapshot.bucket, key, encodeTreeListing(entries.filter((_, i) => i !== firstBlob)));
    const hidden = await verify(snapshot.id);
    expect(hidden).toMatchObject({ status: 'failed', error: { code: 'FILE_CHECKSUM_MISMATCH' } });
    expect(hidden.error!.message).toContain(key);

    await store.putBuffer(snapshot.bucket, key, original);
    expect(await verify(snapshot.id)).toMatchObject({ status: 'passed', error: null });
  });

  it('refuses to verify what does not exist or has not completed', async () => {
    const unknown = await api.call('POST', `/api/archives/00000000-0000-4000-8000-000000000000/verify`);
    expect(unknown.status).toBe(404);
    const missing = await api.submit(http.url('no-such-repository.git'));
    const failed = await settledArchive(api, missing.id, 60_000);
    expect(failed.status).toBe('failed');
    const refused = await api.call<{ error: { code: string } }>('POST', `/api/archives/${missing.id}/verify`);
    expect([refused.status, refused.body.error.code]).toEqual([409, 'NOT_VERIFIABLE']);
  });

  it('samples never verified snapshots first, then the least recently checked, on schedule', async () => {
    await newUpstream('sampled');
    const snapshot = await visit('sampled');
    const picked = await verifications.pickSample(10_000);
    const rows = await prisma.archive.findMany({ where: { id: { in: picked } }, select: { id: true, verifyCheckedAt: true } });
    const checked = new Map(rows.map((r) => [r.id, r.verifyCheckedAt?.getTime() ?? -1]));
    const order = picked.map((id) => checked.get(id)!);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(checked.get(snapshot.id)).toBe(-1);

    // The sample is drawn from the whole database: what other tests left unverified goes after
    // this snapshot, so one drill per tick reaches it first.
    await prisma.archive.updateMany({
      where: { status: 'completed', verifyCheckedAt: null, id: { not: snapshot.id } },
      data: { verifyCheckedAt: new Date() },
    });
    const sampler = await startApp('injector', { VERIFY_INTERVAL_SECONDS: '1', VERIFY_SAMPLE_SIZE: '1' });
    apps.push(sampler);
    const drilled = await waitFor(
      'the scheduled drill',
      async () => {
        const { body } = await api.call<{ verification: Verification }>('GET', `/api/archives/${snapshot.id}`);
        return body.verification.status === 'unverified' ? undefined : body.verification;
      },
      120_000,
      500,
    );
    expect(drilled).toMatchObject({ status: 'passed' });
  });
});

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

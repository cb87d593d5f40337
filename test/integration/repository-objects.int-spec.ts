import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { loadConfig, loadStackSettings } from '@archiver/config';
import { ArchiveRepository, PrismaService } from '@archiver/database';
import {
  bundleKey,
  knownObjectsOf,
  LATEST_FOLDER,
  LATEST_RECORD_KEY,
  LatestView,
  manifestKey,
  OBJECTS_FOLDER,
  ObjectStoreRepository,
  treeListingKey,
  TREES_FOLDER,
  SnapshotFileSource,
  snapshotPrefix,
  SnapshotWriter,
} from '@archiver/storage';
import {
  ApiClient,
  AppProcess,
  completedVisit,
  fixtureGit,
  GitHttpServerHandle,
  KeycloakTestClient,
  type ManifestWithFiles,
  readAll,
  readManifestWithFiles,
  startApp,
  startGitHttpServer,
  tearDown,
  waitFor,
} from '@archiver/testing';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const NOT_FOUND = { code: 'STORAGE_NOT_FOUND' };
// A real 1x1 PNG: the console previews it as an image once its Content-Type says so.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
const SHARED = 'identical bytes at two paths\n';

// File blobs stored once per repository (objects/<git id>), the latest/ view and deletion, with
// the real worker, frontend, git server and MinIO of the test stack.
describe('file blobs stored once per repository', () => {
  const config = loadConfig();
  const stack = loadStackSettings();
  const store = new ObjectStoreRepository(config.minio);
  const prisma = new PrismaService(config);
  const archives = new ArchiveRepository(prisma);
  const keycloak = KeycloakTestClient.fromEnvironment();
  const workDir = path.join(os.tmpdir(), `archiver-objects-${process.pid}`);
  const apps: AppProcess[] = [];
  let worker: AppProcess;
  let http: GitHttpServerHandle;
  let api: ApiClient;
  let adminApi: ApiClient;
  let scratch: string;
  let work: string;
  let bare: string;

  const git = async (args: string[], cwd = work) => (await fixtureGit(args, cwd, scratch)).toString('utf8');
  const put = async (file: string, content: string | Buffer) => {
    await mkdir(path.dirname(path.join(work, file)), { recursive: true });
    await writeFile(path.join(work, file), content);
  };
  const commitAndPush = async (message: string) => {
    await git(['add', '--all']);
    await git(['commit', '--quiet', '-m', message]);
    await git(['push', '--quiet', bare, 'main']);
  };
  const manifestOf = (bucket: string, prefix: string) => readManifestWithFiles(store, bucket, prefix);
  /** Every object under objects/ with what would change if it were overwritten. */
  const blobsOf = async (bucket: string) => {
    const blobs = new Map<string, string>();
    for (const { name } of await store.listAllObjects(bucket, OBJECTS_FOLDER)) {
      const stat = await store.statObject(bucket, name);
      blobs.set(name, `${stat.etag} ${stat.lastModified.toISOString()}`);
    }
    return blobs;
  };
  /** Every listing under trees/ with what would change if it were rewritten. */
  const listingsOf = async (bucket: string) => {
    const listings = new Map<string, string>();
    for (const { name } of await store.listAllObjects(bucket, TREES_FOLDER)) {
      const stat = await store.statObject(bucket, name);
      listings.set(name, `${stat.etag} ${stat.lastModified.toISOString()}`);
    }
    return listings;
  };
  /** The listing key of every distinct tree of the commit, as git itself lists them. */
  const treeKeysOf = async (commit: string) => {
    const root = (await git(['rev-parse', `${commit}^{tree}`], bare)).trim();
    const subtrees = (await git(['ls-tree', '-r', '-d', '--format=%(objectname)', commit], bare)).split('\n').filter(Boolean);
    return new Set([root, ...subtrees].map(treeListingKey));
  };
  const treeIdAt = async (commit: string, dir: string) => (await git(['rev-parse', `${commit}:${dir}`], bare)).trim();
  /** Names in one directory through the browse API, against `git ls-tree` of the same commit. */
  const expectBrowsable = async (archiveId: string, commit: string, dir: string) => {
    const answer = await api.call<{ entries: { name: string; type: string; size?: number }[] }>(
      'GET',
      `/api/archives/${archiveId}/tree?path=${dir}`,
    );
    expect(answer.status).toBe(200);
    const listed = (await git(['ls-tree', '--format=%(objectname) %(path)', `${commit}:${dir}`], bare)).split('\n').filter(Boolean);
    expect(answer.body.entries.map((e) => e.name).sort()).toEqual(listed.map((line) => line.split(' ')[1]).sort());
  };
  const verificationOf = async (id: string) =>
    (await api.call<{ verification: { checkedAt: string | null; status: string } }>('GET', `/api/archives/${id}`)).body.verification;
  /** Runs a restore drill of the snapshot (it reads every listing and file) and waits for its result. */
  const verify = async (id: string) => {
    const before = (await verificationOf(id)).checkedAt;
    expect((await api.call('POST', `/api/archives/${id}/verify`)).status).toBe(202);
    return waitFor(
      `the drill of ${id}`,
      async () => {
        const verification = await verificationOf(id);
        return verification.checkedAt !== null && verification.checkedAt !== before ? verification : undefined;
      },
      90_000,
    );
  };
  /** The worker's own count of the blobs it uploaded for this visit (its `archived` log line). */
  const uploadsOf = (archiveId: string) => {
    const line = worker
      .output()
      .split('\n')
      .filter((l) => l.includes('"archived"') && l.includes(archiveId.slice(0, 8)))
      .at(-1);
    return line
      ? (JSON.parse(line) as { uploaded: number; present: number; known: number; listings: { written: number; known: number } })
      : undefined;
  };
  // The worker logs the visit after recording its completion: the line may lag the status.
  const loggedUploadsOf = (archiveId: string) => waitFor('the worker to log the visit', async () => uploadsOf(archiveId), 20_000);
  const visit = async () => {
    const { view: done, row } = await completedVisit(api, archives, http.url('files.git'));
    return { id: done.id, bucket: row.bucket!, prefix: row.prefix!, commit: row.commit! };
  };
  /** latest/ is updated just after completion: wait until its record names `prefix`. */
  const latestShows = (bucket: string, prefix: string) =>
    waitFor(`latest/ to show ${prefix}`, async () => ((await new LatestView(store).record(bucket))?.prefix === prefix ? true : undefined));

  /** Every path of the commit's tree maps to an object holding exactly its bytes. */
  async function expectExactMapping(bucket: string, prefix: string, commit: string): Promise<ManifestWithFiles> {
    const manifest = await manifestOf(bucket, prefix);
    const tree = (await git(['ls-tree', '-r', '-z', '--name-only', commit], bare)).split('\0').filter(Boolean);
    expect(manifest.files.map((f) => f.path)).toEqual(tree);
    for (const file of manifest.files) {
      const expected = await fixtureGit(['cat-file', 'blob', `${commit}:${file.path}`], bare, scratch);
      const stored = await readAll(await store.getObject(bucket, file.key));
      expect({ path: file.path, key: file.key, sha256: sha256(stored), gitSha: gitBlobId(stored) }).toEqual({
        path: file.path,
        key: `${OBJECTS_FOLDER}${file.gitSha.slice(0, 2)}/${file.gitSha.slice(2)}`,
        sha256: sha256(expected),
        gitSha: file.gitSha,
      });
    }
    return manifest;
  }

  /** latest/ holds exactly the snapshot's tree by path, byte for byte. */
  async function expectLatestEquals(bucket: string, manifest: ManifestWithFiles): Promise<void> {
    const listed = (await store.listAllObjects(bucket, LATEST_FOLDER)).map((o) => o.name).filter((k) => k !== LATEST_RECORD_KEY);
    expect(listed.sort()).toEqual(manifest.files.map((f) => `${LATEST_FOLDER}files/${f.path}`).sort());
    for (const file of manifest.files) {
      expect(gitBlobId(await readAll(await store.getObject(bucket, `${LATEST_FOLDER}files/${file.path}`)))).toBe(file.gitSha);
    }
  }

  beforeAll(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'archiver-objects-fixtures-'));
    const root = path.join(scratch, 'repos');
    work = path.join(scratch, 'work');
    bare = path.join(root, 'files.git');
    await mkdir(root, { recursive: true });
    await fixtureGit(['init', '--quiet', '--bare', '--initial-branch=main', bare], scratch, scratch);
    await fixtureGit(['init', '--quiet', '--initial-branch=main', work], scratch, scratch);
    for (let i = 0; i < 40; i++) await put(`src/module-${i % 4}/file-${i}.txt`, `file ${i}\n${randomBytes(200).toString('hex')}\n`);
    await put('README.md', '# Files\n\nStored once per repository.\n');
    await put('docs/notes.txt', 'plain text\n');
    await put('img/logo.png', PNG);
    await put('LICENSE', 'no extension, so bytes\n');
    await put('a/same.txt', SHARED);
    await put('b/same-again.txt', SHARED);
    await put('to-be-removed.txt', 'gone in the second visit\n');
    await put('big.bin', randomBytes(3 * 1024 * 1024));
    await commitAndPush('initial');

    http = await startGitHttpServer({ root });
    const frontend = await startApp('frontend');
    worker = await startApp('worker', { ARCHIVER_WORK_DIR: workDir });
    apps.push(frontend, await startApp('injector'), worker);
    api = new ApiClient(frontend.url, await keycloak.passwordToken(stack.demo.username, stack.demo.password));
    adminApi = new ApiClient(frontend.url, await keycloak.passwordToken(stack.admin.username, stack.admin.password));
  });

  afterAll(() =>
    tearDown({ apps, close: [() => store.close(), () => prisma.$disconnect(), () => http?.stop()], dirs: [scratch, workDir] }),
  );

  it('uploads only changed blobs, maps every path of each snapshot, keeps latest/ current, and deletes without losing shared bytes', async () => {
    // First visit: every distinct blob once (the two identical files share one object).
    const first = await visit();
    const { bucket } = first;
    const firstManifest = await expectExactMapping(bucket, first.prefix, first.commit);
    const distinct = new Set(firstManifest.files.map((f) => f.gitSha));
    expect(distinct.size).toBe(firstManifest.files.length - 1);
    const shared = firstManifest.files.filter((f) => f.path.endsWith('same.txt') || f.path.endsWith('same-again.txt'));
    expect(shared.map((f) => f.key)).toEqual([shared[0]!.key, shared[0]!.key]);
    const blobsBefore = await blobsOf(bucket);
    expect(blobsBefore.size).toBe(distinct.size);
    expect(await loggedUploadsOf(first.id)).toMatchObject({ uploaded: distinct.size, known: 0 });
    // Nothing but the bundle and the manifest under the snapshot's own prefix.
    expect((await store.listAllObjects(bucket, first.prefix)).map((o) => o.name).sort()).toEqual(
      [bundleKey(first.prefix), manifestKey(first.prefix)].sort(),
    );
    await latestShows(bucket, first.prefix);
    await expectLatestEquals(bucket, firstManifest);
    expect(await new LatestView(store).record(bucket)).toMatchObject({ archiveId: first.id, prefix: first.prefix, commit: first.commit });

    // One listing per distinct directory tree, served as JSON (gzip-encoded on the wire) to a browser or the console.
    const listingsBefore = await listingsOf(bucket);
    expect(new Set(listingsBefore.keys())).toEqual(await treeKeysOf(first.commit));
    expect(await loggedUploadsOf(first.id)).toMatchObject({ listings: { written: listingsBefore.size, known: 0 } });
    const rootListing = await fetch(await store.presignedGet(bucket, treeListingKey(firstManifest.tree!), 60));
    expect(rootListing.headers.get('content-type')).toBe('application/json');
    expect(rootListing.headers.get('content-encoding')).toBe('gzip');
    const served = (await rootListing.json()) as { entries: { name: string; id: string }[] };
    const rootNames = (await git(['ls-tree', '--format=%(objectname) %(path)', first.commit], bare)).split('\n').filter(Boolean);
    expect(served.entries.map((e) => `${e.id} ${e.name}`)).toEqual(rootNames);

    // Content types from the name, on the blobs and on latest/.
    const typeOf = async (key: string) => (await store.statObject(bucket, key)).contentType;
    const keyOf = (p: string) => firstManifest.files.find((f) => f.path === p)!.key;
    const expectedTypes = {
      'README.md': 'text/markdown',
      'docs/notes.txt': 'text/plain',
      'img/logo.png': 'image/png',
      LICENSE: 'application/octet-stream',
    };
    for (const [file, type] of Object.entries(expectedTypes)) {
      expect({ file, object: await typeOf(keyOf(file)), latest: await typeOf(`${LATEST_FOLDER}files/${file}`) }).toEqual({
        file,
        object: type,
        latest: type,
      });
    }
    expect(await typeOf(manifestKey(first.prefix))).toBe('application/json');
    expect(await typeOf(LATEST_RECORD_KEY)).toBe('application/json');

    // Second visit after a commit changing one file of many and removing another: one upload.
    await put('src/module-1/file-5.txt', 'changed in the second commit\n');
    await rm(path.join(work, 'to-be-removed.txt'));
    await commitAndPush('change one file, remove one');
    const second = await visit();
    expect(second.bucket).toBe(bucket);
    const secondManifest = await expectExactMapping(bucket, second.prefix, second.commit);
    const blobsAfter = await blobsOf(bucket);
    const added = [...blobsAfter.keys()].filter((k) => !blobsBefore.has(k));
    expect(added).toEqual([keyOfIn(secondManifest, 'src/module-1/file-5.txt')]);
    // Nothing stored before was written again (same ETag, same modification time).
    for (const [key, version] of blobsBefore) expect({ key, version: blobsAfter.get(key) }).toEqual({ key, version });
    expect(await loggedUploadsOf(second.id)).toMatchObject({ uploaded: 1, present: 0, known: secondManifest.files.length - 1 });
    // Only the listings of the changed directory and its ancestors were written; none was rewritten.
    const listingsAfter = await listingsOf(bucket);
    const changedDirs = [
      await treeIdAt(second.commit, ''),
      await treeIdAt(second.commit, 'src'),
      await treeIdAt(second.commit, 'src/module-1'),
    ];
    expect([...listingsAfter.keys()].filter((k) => !listingsBefore.has(k)).sort()).toEqual(changedDirs.map(treeListingKey).sort());
    for (const [key, version] of listingsBefore) expect({ key, version: listingsAfter.get(key) }).toEqual({ key, version });
    expect(new Set([...(await treeKeysOf(second.commit))].filter((k) => !listingsAfter.has(k)))).toEqual(new Set());
    expect((await loggedUploadsOf(second.id)).listings).toMatchObject({ written: 3, known: (await treeKeysOf(second.commit)).size - 3 });
    // Both snapshots browse and verify exactly: the second through its new listings, the first through its own.
    for (const [snapshot, commit] of [
      [first.id, first.commit],
      [second.id, second.commit],
    ] as const) {
      await expectBrowsable(snapshot, commit, 'src/module-1');
      await expectBrowsable(snapshot, commit, 'src');
      const file = await api.call('GET', `/api/archives/${snapshot}/files/src/module-1/file-5.txt`);
      expect({ status: file.status, text: file.text }).toEqual({
        status: 200,
        text: await git(['cat-file', 'blob', `${commit}:src/module-1/file-5.txt`], bare),
      });
    }
    expect(await verify(first.id)).toMatchObject({ status: 'passed' });
    expect(await verify(second.id)).toMatchObject({ status: 'passed' });
    await latestShows(bucket, second.prefix);
    await expectLatestEquals(bucket, secondManifest);
    await expect(store.statObject(bucket, `${LATEST_FOLDER}files/to-be-removed.txt`)).rejects.toMatchObject(NOT_FOUND);
    // The first snapshot still maps every path of its own tree to exact bytes.
    await expectExactMapping(bucket, first.prefix, first.commit);

    // DELETE the newest snapshot: the first stays restorable and browsable, latest/ goes back to it.
    expect((await adminApi.call('DELETE', `/api/archives/${second.id}`)).status).toBe(204);
    await expectExactMapping(bucket, first.prefix, first.commit);
    expect((await store.statObject(bucket, bundleKey(first.prefix))).size).toBeGreaterThan(0);
    expect(await new LatestView(store).record(bucket)).toMatchObject({ prefix: first.prefix });
    await expectLatestEquals(bucket, firstManifest);
    expect((await api.call('GET', `/api/archives/${first.id}/download`)).status).toBe(200);

    // DELETE the last snapshot: the bucket goes, blobs and view with it.
    expect((await adminApi.call('DELETE', `/api/archives/${first.id}`)).status).toBe(204);
    expect(await store.bucketExists(bucket)).toBe(false);
  });

  it('the pinned MinIO refuses a conditional PUT (If-None-Match: *) of an existing key: a stored blob is never overwritten', async () => {
    const bucket = `archiver-it-inm-${process.pid}`;
    await store.ensureBucket(bucket);
    try {
      expect(await store.putBufferIfAbsent(bucket, 'objects/aa/bb', Buffer.from('first'))).toBe(true);
      expect(await store.putBufferIfAbsent(bucket, 'objects/aa/bb', Buffer.from('second'))).toBe(false);
      expect((await readAll(await store.getObject(bucket, 'objects/aa/bb'))).toString()).toBe('first');
    } finally {
      await store.removePrefix(bucket, 'objects/');
      await store.removeBucketIfEmpty(bucket);
    }
  });

  it('a run that fails after uploading blobs leaves latest/ and the blobs of completed snapshots intact', async () => {
    await put('docs/notes.txt', `another change ${randomBytes(4).toString('hex')}\n`);
    await commitAndPush('one more change');
    const done = await visit();
    const { bucket } = done;
    await latestShows(bucket, done.prefix);
    const manifest = await manifestOf(bucket, done.prefix);
    const blobsBefore = await blobsOf(bucket);
    const latestBefore = await store.listAllObjects(bucket, LATEST_FOLDER);
    const recordBefore = await new LatestView(store).record(bucket);

    // A run of the same repository (the worker's own writer): a new blob and an already stored one, then a failure.
    const prefix = snapshotPrefix(new Date(), '00000000-0000-4000-8000-00000000fa11', 'deadbeef');
    const writer = new SnapshotWriter(store, { bucket, prefix });
    const fresh = Buffer.from(`never completed ${randomBytes(4).toString('hex')}\n`);
    const freshSha = createHash('sha1').update(`blob ${fresh.length}\0`).update(fresh).digest('hex');
    const old = manifest.files[0]!;
    const oldBytes = await readAll(await store.getObject(bucket, old.key));
    const tree = [
      { pathBytes: Buffer.from(old.path), size: old.size, mode: old.mode, sha: old.gitSha, bytes: oldBytes },
      { pathBytes: Buffer.from('new.txt'), size: fresh.length, mode: '100644', sha: freshSha, bytes: fresh },
      { pathBytes: Buffer.from('never.txt'), size: 5, mode: '100644', sha: 'e'.repeat(40), bytes: Buffer.alloc(0) },
    ];
    const failing = async function* (files: typeof tree): AsyncGenerator<SnapshotFileSource> {
      for (const file of files) {
        if (file.sha === 'e'.repeat(40)) throw new Error('git died half-way');
        yield { ...file, stream: Readable.from([file.bytes]) };
      }
    };
    await expect(writer.storeTree(tree, failing, { concurrency: 2 })).rejects.toThrow(/git died/);
    await writer.abort();

    expect(await store.listAllObjects(bucket, prefix)).toEqual([]);
    const blobsAfter = await blobsOf(bucket);
    for (const [key, version] of blobsBefore) expect({ key, version: blobsAfter.get(key) }).toEqual({ key, version });
    expect(await store.listAllObjects(bucket, LATEST_FOLDER)).toEqual(latestBefore);
    expect(await new LatestView(store).record(bucket)).toEqual(recordBefore);
    // The next visit knows the completed snapshot's blobs without reading them.
    expect((await knownObjectsOf(store, bucket, done.prefix)).size).toBe(new Set(manifest.files.map((f) => f.gitSha)).size);
  });
});

function gitBlobId(bytes: Buffer): string {
  return createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
}

function keyOfIn(manifest: ManifestWithFiles, file: string): string {
  return manifest.files.find((f) => f.path === file)!.key;
}

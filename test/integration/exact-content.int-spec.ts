import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '@archiver/config';
import { RepositoryReader } from '@archiver/git';
import {
  bucketNameFor,
  fileKey,
  LATEST_FOLDER,
  LATEST_RECORD_KEY,
  LatestView,
  manifestHeadFields,
  manifestKey,
  mappedPathCount,
  objectKey,
  OBJECTS_FOLDER,
  ObjectStoreRepository,
  SnapshotFileSource,
  SnapshotKeyAllocator,
  snapshotPrefix,
  SnapshotTreeFile,
  SnapshotWriter,
  StorageErrorCode,
  treeFiles,
  unstorableReason,
} from '@archiver/storage';
import { CraftedRepository, CraftedTreeEntry } from '../../libs/git/src/tree-crafter';
import { type ManifestWithFiles, readAll, readManifestWithFiles } from '@archiver/testing';

jest.setTimeout(120_000);

const config = loadConfig();
const runId = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const bytes = (...parts: (string | number[] | Buffer)[]) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));

async function* sources(reader: RepositoryReader, files: readonly SnapshotTreeFile[]): AsyncGenerator<SnapshotFileSource> {
  for await (const { entry, size, stream } of reader.blobs(files)) {
    yield { pathBytes: entry.pathBytes, size, mode: entry.mode, sha: entry.sha, stream };
  }
}

// Crafted repositories (git plumbing: trees with any bytes, duplicates and dots, odd refs) read
// by the real RepositoryReader and written by the real SnapshotWriter into the stack's MinIO;
// then everything is read back and compared with what git says, byte for byte.
describe('exact names and bytes in stored snapshots', () => {
  const store = new ObjectStoreRepository(config.minio);
  const bucket = bucketNameFor(`https://example.org/exact-${runId}/repo`);
  let base: string;

  beforeAll(async () => {
    base = await mkdtemp(path.join(tmpdir(), 'exact-content-'));
    await store.ensureBucket(bucket);
  });

  afterAll(async () => {
    for (const folder of ['snapshots/', 'objects/', 'trees/', 'latest/']) await store.removePrefix(bucket, folder);
    await store.removeBucketIfEmpty(bucket);
    store.close();
    await rm(base, { recursive: true, force: true });
  });

  const craft = () => CraftedRepository.init(path.join(base, `${randomUUID()}.git`));

  /**
   * What the worker does: head, blobs, tree listings, bundle, manifest (v4) last. Returns the
   * manifest as stored with its files walked from the listings.
   */
  async function archive(repo: CraftedRepository): Promise<{ prefix: string; manifest: ManifestWithFiles }> {
    const archiveId = randomUUID();
    const prefix = snapshotPrefix(new Date(), archiveId);
    const reader = new RepositoryReader(repo.gitDir);
    const head = await reader.head();
    const writer = new SnapshotWriter(store, { bucket, prefix });
    const trees = head.commit ? await reader.trees(head.commit) : null;
    const files = trees
      ? await writer.storeTree(treeFiles(trees), (toRead) => sources(reader, toRead), { concurrency: 4, smallFileBytes: 64 * 1024 })
      : [];
    if (trees) await writer.storeTreeListings(trees, new Set(), 4);
    const bundleFile = await reader.createBundle(path.join(base, `${archiveId}.bundle`), head.refs);
    const bundle = bundleFile ? await writer.uploadBundle(bundleFile.path) : null;
    const now = new Date().toISOString();
    await writer.writeManifest({
      version: 4,
      url: 'https://example.org/crafted.git',
      normalizedUrl: 'https://example.org/crafted',
      archiveId,
      ...manifestHeadFields(head),
      tree: trees?.root ?? null,
      fileCount: files.length,
      byteCount: files.reduce((sum, file) => sum + file.size, 0),
      mappedPathCount: mappedPathCount(files),
      bundle,
      timestamps: { createdAt: now, injectedAt: now, startedAt: now, finishedAt: now },
    });
    const manifest = await readManifestWithFiles(store, bucket, prefix);
    expect(manifest.files.map((f) => ({ ...f, sha256: undefined }))).toEqual(files.map((f) => ({ ...f, sha256: undefined })));
    await new LatestView(store).show(bucket, prefix);
    return { prefix, manifest };
  }

  /** The snapshot holds exactly the commit's files: exact paths, exact bytes, one key each, nothing hidden. */
  async function expectExactFiles(repo: CraftedRepository, snapshot: { prefix: string; manifest: ManifestWithFiles }): Promise<void> {
    const { prefix, manifest } = snapshot;
    const expected = await repo.files(manifest.commit as string);
    expect(manifest.fileCount).toBe(expected.length);
    const exactPaths = manifest.files.map((f) =>
      f.pathBase64 === undefined ? Buffer.from(f.path, 'utf8') : Buffer.from(f.pathBase64, 'base64'),
    );
    expect(exactPaths).toEqual(expected.map((f) => f.path));
    for (const file of manifest.files) {
      if (file.pathBase64 !== undefined) expect(Buffer.from(file.pathBase64, 'base64').toString('utf8')).toBe(file.path);
      // Every path maps to the blob of its bytes, shared by every path and snapshot holding them.
      expect(file.key).toBe(objectKey(file.gitSha));
    }
    expect(manifest.mappedPathCount).toBe(manifest.files.filter((f) => f.mappedBecause !== undefined).length);

    // latest/ shows exactly this tree: a readable key per storable path, latest/mapped/ for the rest.
    const latestKeys = new SnapshotKeyAllocator(LATEST_FOLDER);
    const view = manifest.files.map((file, i) => ({ file, i, ...latestKeys.allocate(exactPaths[i]!) }));
    for (const { file, key, mappedBecause } of view) {
      expect({ path: file.path, mappedBecause }).toEqual({ path: file.path, mappedBecause: file.mappedBecause });
      if (mappedBecause === undefined) expect(key).toBe(`${LATEST_FOLDER}${fileKey('', file.path)}`);
    }
    const shownKeys = (await store.listAllObjects(bucket, LATEST_FOLDER)).map((o) => o.name).filter((k) => k !== LATEST_RECORD_KEY);
    expect(shownKeys.sort()).toEqual(view.map((v) => v.key).sort());
    expect(await new LatestView(store).record(bucket)).toMatchObject({ prefix, commit: manifest.commit });

    for (const [i, file] of manifest.files.entries()) {
      const stored = await readAll(await store.getObject(bucket, file.key));
      const blob = await repo.git(['cat-file', 'blob', expected[i]!.sha]);
      expect({ key: file.key, sha: sha256(stored) }).toEqual({ key: file.key, sha: sha256(blob) });
      const shown = await readAll(await store.getObject(bucket, view[i]!.key));
      expect({ key: view[i]!.key, sha: sha256(shown) }).toEqual({ key: view[i]!.key, sha: sha256(blob) });
      expect(file).toMatchObject({ gitSha: expected[i]!.sha, size: blob.length, mode: expected[i]!.mode });
    }
    // Listing shows every object: none hides behind another (MinIO lists `a` but not `a/b`).
    const listed = (await store.listAllObjects(bucket, prefix)).map((o) => o.name).sort();
    const written = [manifestKey(prefix), ...(manifest.bundle ? [manifest.bundle.key] : [])].sort();
    expect(listed).toEqual(written);
    const blobs = new Set((await store.listAllObjects(bucket, OBJECTS_FOLDER)).map((o) => o.name));
    expect(manifest.files.filter((f) => !blobs.has(f.key))).toEqual([]);
  }

  async function commitOf(repo: CraftedRepository, entries: CraftedTreeEntry[]): Promise<string> {
    const commit = await repo.commit(await repo.tree(entries));
    await repo.updateRefs([{ name: 'refs/heads/main', sha: commit }]);
    return commit;
  }

  it('MinIO stores, reads back and deletes exactly the readable keys object-key-rules allows (checked, not assumed)', async () => {
    const prefix = snapshotPrefix(new Date(), randomUUID());
    // Each candidate in a folder of its own, so deleting one by prefix touches no other.
    const folderFor = (i: number) => `${prefix}${String(i).padStart(3, '0')}/`;
    const room = 1024 - Buffer.byteLength(folderFor(0));
    const candidates = [
      ...Array.from({ length: 0x7f }, (_, i) => `b${String.fromCharCode(i + 1)}x`).filter((p) => !p.includes('/')),
      ...['\ufffe', '\uffff', '\ufffd', '\u0085', '\u2028'].map((c) => `u${c}`),
      'back\\slash',
      '...',
      '.minio.sys/x',
      'xl.meta',
      'd/part.1',
      'caf\u00e9',
      'cafe\u0301',
      '\ufeff',
      '😀',
      ' sp ',
      '\u00a0..',
      '.',
      '..',
      'a/./b',
      'a/../b',
      ' ..',
      '.. ',
      '\t.',
      'a\\..\\b',
      'x/.\\y',
      'a//b',
      '/lead',
      'trail/',
      'x'.repeat(255),
      'x'.repeat(256),
      '€'.repeat(85),
      '€'.repeat(86),
      `${'d/'.repeat(Math.floor(room / 2) - 60)}`.padEnd(room, 'e'),
      `${'d/'.repeat(Math.floor(room / 2) - 60)}`.padEnd(room + 1, 'e'),
    ];
    const verdicts = [];
    for (const [i, candidate] of candidates.entries()) {
      const key = `${folderFor(i)}${candidate}`;
      const stored = await store.putBuffer(bucket, key, Buffer.from(candidate)).then(
        () => true,
        (error: { code?: string }) => error.code === StorageErrorCode.INVALID && false,
      );
      const readBack = stored && (await readAll(await store.getObject(bucket, key))).equals(Buffer.from(candidate));
      const deleted =
        stored &&
        (await store.removePrefix(bucket, key).then(
          () => true,
          () => false,
        ));
      if (stored && !deleted) await store.removeObject(bucket, key);
      const rules = unstorableReason(folderFor(i), Buffer.from(candidate)) === null;
      verdicts.push({ candidate, minio: stored && readBack && deleted, rules });
    }
    // A trailing `/` is accepted as a "folder object", a different thing: the rules refuse it.
    const disagreeing = verdicts.filter((v) => v.minio !== v.rules && v.candidate !== 'trail/');
    expect(disagreeing).toEqual([]);
    expect(verdicts.filter((v) => !v.minio).length).toBeGreaterThan(20);
    await store.removePrefix(bucket, prefix);
  });

  it('MinIO hides `a/b` from listings once `a` is an object: why such keys are never both readable', async () => {
    const prefix = snapshotPrefix(new Date(), randomUUID());
    await store.putBuffer(bucket, `${prefix}a`, Buffer.from('a'));
    await store.putBuffer(bucket, `${prefix}a/b`, Buffer.from('b'));
    expect((await store.listAllObjects(bucket, prefix)).map((o) => o.name)).toEqual([`${prefix}a`]);
    // Removing `a` uncovers `a/b`, so a prefix takes two rounds to empty.
    await store.removePrefix(bucket, prefix);
    expect((await store.listAllObjects(bucket, prefix)).map((o) => o.name)).toEqual([`${prefix}a/b`]);
    await store.removePrefix(bucket, prefix);
  });

  it('stores names that are not UTF-8, and names that print alike, each under its own key', async () => {
    const repo = await craft();
    const blob = (text: string) => repo.blob(text);
    const sub = await repo.tree([{ mode: '100644', name: 'x', sha: await blob('under \\xff') }]);
    await commitOf(repo, [
      { mode: '100644', name: bytes('f', [0xff]), sha: await blob('f\\xff') },
      { mode: '100644', name: bytes('f', [0xfe]), sha: await blob('f\\xfe') },
      { mode: '100644', name: 'f\ufffd', sha: await blob('real U+FFFD') },
      { mode: '100644', name: bytes('lat', [0xe9]), sha: await blob('latin-1 é') },
      { mode: '100644', name: bytes('sur', [0xed, 0xa0, 0x80]), sha: await blob('encoded surrogate') },
      { mode: '40000', name: bytes([0xff]), sha: sub },
    ]);
    const snapshot = await archive(repo);
    await expectExactFiles(repo, snapshot);
    expect(snapshot.manifest.files.map((f) => f.mappedBecause ?? null)).toEqual([
      'not-utf8',
      'not-utf8',
      null,
      'not-utf8',
      'not-utf8',
      'not-utf8',
    ]);
    expect(snapshot.manifest.mappedPathCount).toBe(5);
  });

  it('stores over-long paths and segments, and dot, empty and whitespace-dot segments of crafted trees', async () => {
    const repo = await craft();
    const x = await repo.blob('x');
    let deep = await repo.tree([{ mode: '100644', name: 'leaf', sha: await repo.blob('deep leaf') }]);
    for (let i = 0; i < 120; i++) deep = await repo.tree([{ mode: '40000', name: `segment-${i}`, sha: deep }]);
    await commitOf(repo, [
      { mode: '100644', name: 'y'.repeat(255), sha: await repo.blob('255 bytes: readable') },
      { mode: '100644', name: 'z'.repeat(256), sha: await repo.blob('256 bytes') },
      { mode: '100644', name: 'é'.repeat(128), sha: await repo.blob('128 characters, 256 bytes') },
      { mode: '40000', name: 'deep', sha: deep },
      { mode: '100644', name: '..', sha: await repo.blob('dot dot') },
      { mode: '100644', name: '.', sha: await repo.blob('dot') },
      { mode: '100644', name: '/lead', sha: x },
      { mode: '100644', name: 'trail/', sha: await repo.blob('trailing slash') },
      { mode: '100644', name: ' .. ', sha: await repo.blob('spaced dots') },
      { mode: '100644', name: 'a\\..\\b', sha: await repo.blob('backslash dots') },
      { mode: '100755', name: 'run', sha: await repo.blob('#!/bin/sh\n') },
      { mode: '120000', name: 'link', sha: await repo.blob('../../etc/passwd') },
    ]);
    const snapshot = await archive(repo);
    await expectExactFiles(repo, snapshot);
    const reasons = Object.fromEntries(snapshot.manifest.files.map((f) => [f.path.slice(0, 12), f.mappedBecause ?? null]));
    expect(reasons).toMatchObject({
      yyyyyyyyyyyy: null,
      zzzzzzzzzzzz: 'segment-too-long',
      éééééééééééé: 'segment-too-long',
      'deep/segment': 'key-too-long',
      '..': 'bad-segment',
      '.': 'bad-segment',
      '/lead': 'bad-segment',
      'trail/': 'bad-segment',
      ' .. ': 'bad-segment',
      'a\\..\\b': 'bad-segment',
      run: null,
      link: null,
    });
  });

  it('stores duplicate entries, file-versus-folder conflicts and NFC/NFD spellings as separate objects', async () => {
    const repo = await craft();
    const folder = await repo.tree([
      { mode: '100644', name: 'b', sha: await repo.blob('a/b') },
      { mode: '100644', name: 'xl.meta', sha: await repo.blob('a/xl.meta') },
    ]);
    const large = randomBytes(300 * 1024);
    await commitOf(repo, [
      { mode: '100644', name: 'a', sha: await repo.blob('file a') },
      { mode: '40000', name: 'a', sha: folder },
      { mode: '100644', name: 'dup', sha: await repo.blob('dup one') },
      { mode: '100644', name: 'dup', sha: await repo.blob('dup two') },
      { mode: '100644', name: 'dup', sha: await repo.blob(large) },
      { mode: '100644', name: 'caf\u00e9', sha: await repo.blob('NFC') },
      { mode: '100644', name: 'cafe\u0301', sha: await repo.blob('NFD') },
      { mode: '100644', name: 'Case', sha: await repo.blob('upper') },
      { mode: '100644', name: 'case', sha: await repo.blob('lower') },
    ]);
    const snapshot = await archive(repo);
    await expectExactFiles(repo, snapshot);
    expect(snapshot.manifest.files.map((f) => [f.path, f.mappedBecause ?? null])).toEqual([
      ['a', null],
      ['a/b', 'parent-conflict'],
      ['a/xl.meta', 'parent-conflict'],
      ['dup', null],
      ['dup', 'duplicate'],
      ['dup', 'duplicate'],
      ['caf\u00e9', null],
      ['cafe\u0301', null],
      ['Case', null],
      ['case', null],
    ]);
  });

  it('stores a file for every byte 0x01-0xff in a segment name, and in a folder name', async () => {
    const repo = await craft();
    const entries: CraftedTreeEntry[] = [];
    for (let byte = 1; byte <= 0xff; byte++) {
      const sha = await repo.blob(`byte ${byte}`);
      entries.push({ mode: '100644', name: bytes('s', [byte], 'e'), sha });
      entries.push({ mode: '40000', name: bytes('d', [byte]), sha: await repo.tree([{ mode: '100644', name: 'f', sha }]) });
    }
    await commitOf(repo, entries);
    const snapshot = await archive(repo);
    await expectExactFiles(repo, snapshot);
    // Mapped: a high byte alone (never UTF-8), the 28 controls XML cannot carry (in both names),
    // and `d` + `/` (an empty segment). Every other name stays readable.
    const readable = snapshot.manifest.files.filter((f) => f.mappedBecause === undefined);
    expect(readable).toHaveLength(2 * 0x7f - 2 * 28 - 1);
  });

  it('keeps ref names byte for byte, takes files from a fallback when HEAD names a missing branch, and the bundle restores every ref', async () => {
    const repo = await craft();
    const tree = await repo.tree([{ mode: '100644', name: 'f', sha: await repo.blob('content') }]);
    const older = await repo.commit(tree, 'older', [], '2020-01-01T00:00:00Z');
    const newer = await repo.commit(tree, 'newer', [older], '2024-01-01T00:00:00Z');
    // The first branch by name bytes is the fallback: `a\xff` sorts before `b`.
    const oddBranch = bytes('refs/heads/a', [0xff, 0x62, 0x72]);
    await repo.updateRefs([
      { name: oddBranch, sha: newer },
      { name: bytes('refs/tags/v', [0xc3, 0x28]), sha: older },
      { name: 'refs/heads/b', sha: older },
    ]);
    await repo.setHead('refs/heads/missing');

    const { prefix, manifest } = await archive(repo);
    expect(manifest).toMatchObject({
      empty: false,
      commit: newer,
      defaultBranch: 'refs/heads/missing',
      commitSource: 'refs/heads/a\ufffdbr',
    });
    expect(Buffer.from(manifest.commitSourceBase64 as string, 'base64')).toEqual(oddBranch);
    await expectExactFiles(repo, { prefix, manifest });

    const exactRefs = manifest.refs!.map((r) =>
      Buffer.concat([
        Buffer.from(`${r.sha} `),
        r.nameBase64 ? Buffer.from(r.nameBase64, 'base64') : Buffer.from(r.name),
        Buffer.from('\n'),
      ]),
    );
    const forEachRef = (dir: string) => repo.git(['for-each-ref', '--format=%(objectname) %(refname)'], undefined, dir);
    expect(Buffer.concat(exactRefs)).toEqual(await forEachRef(repo.gitDir));

    const bundle = path.join(base, `${randomUUID()}.bundle`);
    await writeFile(bundle, await readAll(await store.getObject(bucket, manifest.bundle!.key)));
    const restored = path.join(base, `${randomUUID()}-restored.git`);
    await repo.git(['clone', '--quiet', '--mirror', bundle, restored], undefined, base);
    expect(await forEachRef(restored)).toEqual(await forEachRef(repo.gitDir));
  });

  it('calls a repository empty only when no ref leads to a commit', async () => {
    const repo = await craft();
    await repo.updateRefs([
      { name: 'refs/tags/just-a-tree', sha: await repo.tree([{ mode: '100644', name: 'f', sha: await repo.blob('x') }]) },
    ]);
    await repo.setHead('refs/heads/missing');
    const { manifest } = await archive(repo);
    expect(manifest).toMatchObject({ empty: true, commit: null, commitSource: null, files: [], mappedPathCount: 0 });
    expect(manifest.refs!.map((r) => r.name)).toEqual(['refs/tags/just-a-tree']);
  });
});

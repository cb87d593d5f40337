import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig, loadStackSettings } from '@archiver/config';
import { PrismaService } from '@archiver/database';
import { ObjectStoreRepository } from '@archiver/storage';
import {
  ApiClient,
  type ApiErrorBody,
  type AppProcess,
  type ArchiveView,
  BROWSE_FIXTURE,
  closeAll,
  createBrowseFixtureRepo,
  createFixtureRepos,
  FIXTURE_PNG,
  fixtureGit,
  type FixtureRepos,
  type GitHttpServerHandle,
  KeycloakTestClient,
  removeArchivesUnder,
  settledArchive,
  startApp,
  startGitHttpServer,
  uniqueName,
} from '@archiver/testing';

jest.setTimeout(180_000);

interface TreeEntry {
  name: string;
  nameBase64?: string;
  type: 'dir' | 'file' | 'symlink' | 'executable';
  size?: number;
  mode: string;
}
interface TreeAnswer {
  archiveId: string;
  commit: string | null;
  path: string;
  pathBase64?: string;
  entries: TreeEntry[];
}
interface GitFile {
  mode: string;
  size: number;
  sha: string;
}

/** Every byte but unreserved ones and `/` percent-encoded: any name, UTF-8 or not, as an address. */
const addressOf = (bytes: Buffer) =>
  [...bytes]
    .map((b) => (/[A-Za-z0-9\-._~/]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).padStart(2, '0')}`))
    .join('');
const b64 = (bytes: Buffer) => encodeURIComponent(bytes.toString('base64'));
const key = (bytes: Buffer) => bytes.toString('latin1');

/** `git ls-tree -r -l -z HEAD`, gitlinks left out (the worker skips them): path bytes → mode, size, sha. */
async function gitFiles(bareRepo: string): Promise<Map<string, GitFile>> {
  const out = await fixtureGit(['ls-tree', '-r', '-l', '-z', 'HEAD'], bareRepo);
  const files = new Map<string, GitFile>();
  let start = 0;
  for (let end = out.indexOf(0, start); end !== -1; start = end + 1, end = out.indexOf(0, start)) {
    const record = out.subarray(start, end);
    const tab = record.indexOf(0x09);
    const [mode, type, sha, size] = record.subarray(0, tab).toString('latin1').split(/ +/);
    if (type === 'blob') files.set(key(record.subarray(tab + 1)), { mode, sha, size: Number(size) });
  }
  return files;
}

// The browse API against the real stack: archives of fixture repositories made by the real
// worker, listed and read back through the frontend, compared with what git itself says.
describe('browsing a snapshot through the API', () => {
  const config = loadConfig();
  const stack = loadStackSettings();
  const prisma = new PrismaService(config);
  const store = new ObjectStoreRepository(config.minio);
  const keycloak = KeycloakTestClient.fromEnvironment();
  const apps: AppProcess[] = [];
  const tokens: Record<'demo' | 'admin' | 'other', string> = {} as never;
  let workDir: string;
  let repos: FixtureRepos;
  let browseRepo: string;
  let git: GitHttpServerHandle;
  let client: ApiClient;
  let browse: ArchiveView;
  let multi: ArchiveView;

  const archive = async (name: string, token = tokens.demo) => {
    const done = await settledArchive(client, (await client.submit(git.url(name), token)).id);
    expect(done).toMatchObject({ status: 'completed', error: null });
    return done;
  };
  const tree = (id: string, pathBytes: Buffer, token?: string) =>
    client.call<TreeAnswer & ApiErrorBody>('GET', `/api/archives/${id}/tree?pathBase64=${b64(pathBytes)}`, { token });
  const file = async (id: string, address: string, token?: string) => {
    const res = await fetch(`${apiBase}/api/archives/${id}/files${address}`, {
      headers: { authorization: `Bearer ${token ?? tokens.demo}` },
      signal: AbortSignal.timeout(20_000),
    });
    return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
  };
  let apiBase: string;

  /** Every file under `dir`, by walking the tree API: path bytes → what the listing says. */
  async function walk(id: string, dir = Buffer.alloc(0)): Promise<Map<string, TreeEntry>> {
    const res = await tree(id, dir);
    expect(res.status).toBe(200);
    const found = new Map<string, TreeEntry>();
    for (const entry of res.body.entries) {
      const nameBytes = entry.nameBase64 !== undefined ? Buffer.from(entry.nameBase64, 'base64') : Buffer.from(entry.name, 'utf8');
      const full = dir.length ? Buffer.concat([dir, Buffer.from('/'), nameBytes]) : nameBytes;
      if (entry.type === 'dir') for (const [k, v] of await walk(id, full)) found.set(k, v);
      else found.set(key(full), entry);
    }
    return found;
  }

  const expectListingEqualsGit = async (id: string, bareRepo: string) => {
    const listed = await walk(id);
    const expected = await gitFiles(bareRepo);
    expect([...listed.keys()].sort()).toEqual([...expected.keys()].sort());
    const typeOf = { '100644': 'file', '100755': 'executable', '120000': 'symlink' } as Record<string, string>;
    for (const [name, entry] of listed) {
      const git = expected.get(name)!;
      expect({ name, mode: entry.mode, size: entry.size, type: entry.type }).toEqual({
        name,
        mode: git.mode,
        size: git.size,
        type: typeOf[git.mode],
      });
    }
  };

  beforeAll(async () => {
    workDir = await mkdtemp(path.join(tmpdir(), 'archiver-browse-'));
    repos = await createFixtureRepos(workDir);
    browseRepo = await createBrowseFixtureRepo(repos.root);
    git = await startGitHttpServer({ root: repos.root });
    const frontend = await startApp('frontend');
    apps.push(frontend, await startApp('injector'), await startApp('worker', { ARCHIVER_WORK_DIR: path.join(workDir, 'worker') }));
    apiBase = frontend.url;
    client = new ApiClient(frontend.url, () => Promise.resolve(tokens.demo));
    const other = await keycloak.createUser({ username: uniqueName('other'), realmRoles: ['archiver-user'] });
    [tokens.demo, tokens.admin, tokens.other] = await Promise.all([
      keycloak.passwordToken(stack.demo.username, stack.demo.password),
      keycloak.passwordToken(stack.admin.username, stack.admin.password),
      keycloak.passwordToken(other.username, other.password),
    ]);
    [browse, multi] = await Promise.all([archive('browse'), archive('multi')]);
  });

  afterAll(async () => {
    try {
      await Promise.all(apps.map((app) => app.stop()));
      if (git) await removeArchivesUnder(`${git.baseUrl}/`, { prisma, store, queues: [] });
    } finally {
      store.close();
      await closeAll(
        git?.stop(),
        keycloak.cleanup(),
        prisma.$disconnect(),
        workDir ? rm(workDir, { recursive: true, force: true }) : undefined,
      );
    }
  });

  it('lists the root and every sub-directory exactly as git ls-tree -r does (names, modes, sizes, types)', async () => {
    await expectListingEqualsGit(browse.id, browseRepo);
    await expectListingEqualsGit(multi.id, repos.multi);
  });

  it('answers the root with directories first, then files, each group by name, and the commit', async () => {
    const res = await client.call<TreeAnswer>('GET', `/api/archives/${browse.id}/tree`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ archiveId: browse.id, commit: browse.commit, path: '' });
    const names = res.body.entries.map((e) => `${e.type === 'dir' ? 'd' : 'f'}:${e.name}`);
    expect(names).toEqual(['d:assets', 'd:bin', 'd:data', 'd:docs', 'd:hostile', 'd:odd', 'd:src', 'f:README.md', 'f:link-to-guide']);
    const sub = await client.call<TreeAnswer>('GET', `/api/archives/${browse.id}/tree?path=docs`);
    expect(sub.body.entries).toEqual([
      { name: 'README', type: 'file', size: 38, mode: '100644' },
      { name: 'guide.md', type: 'file', size: expect.any(Number), mode: '100644' },
    ]);
    // A leading or trailing slash names the same directory.
    expect((await client.call<TreeAnswer>('GET', `/api/archives/${browse.id}/tree?path=%2Fdocs%2F`)).body.entries).toEqual(
      sub.body.entries,
    );
  });

  it('reaches a name that is not UTF-8 through nameBase64 and pathBase64', async () => {
    const odd = await client.call<TreeAnswer>('GET', `/api/archives/${browse.id}/tree?path=${BROWSE_FIXTURE.latin1Dir}`);
    const [entry] = odd.body.entries;
    expect(entry.nameBase64).toBe(BROWSE_FIXTURE.latin1NameBytes.toString('base64'));
    expect(entry.name).toBe('caf\ufffd.txt');
    const full = Buffer.concat([Buffer.from(`${BROWSE_FIXTURE.latin1Dir}/`), BROWSE_FIXTURE.latin1NameBytes]);
    const byBase64 = await file(browse.id, `?pathBase64=${b64(full)}`);
    expect(byBase64.status).toBe(200);
    expect(byBase64.bytes.toString()).toBe('a Latin-1 name\n');
    // The router decodes an address as UTF-8 before any handler runs: such names go by pathBase64.
    expect((await file(browse.id, `/${addressOf(full)}`)).status).toBe(400);
    // A listing of a directory whose own name is not UTF-8 says so too.
    const asFile = await tree(browse.id, full);
    expect(asFile.status).toBe(404);
    expect(asFile.body.error.code).toBe('NOT_A_DIRECTORY');
  });

  it('serves every file of the multi fixture byte for byte as git stores it', async () => {
    const expected = await gitFiles(repos.multi);
    expect(expected.size).toBeGreaterThan(5);
    for (const [name, { sha }] of expected) {
      const answer = await file(multi.id, `/${addressOf(Buffer.from(name, 'latin1'))}`);
      expect({ name, status: answer.status }).toEqual({ name, status: 200 });
      const blob = await fixtureGit(['cat-file', 'blob', sha], repos.multi);
      expect({ name, same: answer.bytes.equals(blob) }).toEqual({ name, same: true });
      expect(Number(answer.headers.get('content-length'))).toBe(blob.length);
    }
  });

  it.each([
    ['README.md', 'text/markdown; charset=utf-8', 'inline'],
    [BROWSE_FIXTURE.textFile, 'text/plain; charset=utf-8', 'inline'],
    [BROWSE_FIXTURE.png, 'image/png', 'inline'],
    [BROWSE_FIXTURE.binaryFile, 'application/octet-stream', 'attachment'],
    [BROWSE_FIXTURE.executable, 'application/x-sh', 'attachment'],
    [BROWSE_FIXTURE.html, 'text/html; charset=utf-8', 'attachment'],
    [BROWSE_FIXTURE.svg, 'image/svg+xml', 'attachment'],
    [BROWSE_FIXTURE.symlink, 'text/plain; charset=utf-8', 'inline'],
  ])('%s: %s, %s, sandboxed and never sniffed', async (name, type, disposition) => {
    const answer = await file(browse.id, `/${name}`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe(type);
    expect(answer.headers.get('content-disposition')).toMatch(new RegExp(`^${disposition}; filename="`));
    expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
    const csp = answer.headers.get('content-security-policy') ?? '';
    expect(csp.split(';').map((d) => d.trim())).toEqual(expect.arrayContaining(['sandbox', "default-src 'none'"]));
    expect(csp).not.toMatch(/script-src/);
  });

  it('gives a symlink as its target text, and a PNG as its exact bytes', async () => {
    expect((await file(browse.id, `/${BROWSE_FIXTURE.symlink}`)).bytes.toString()).toBe(BROWSE_FIXTURE.symlinkTarget);
    expect((await file(browse.id, `/${BROWSE_FIXTURE.png}`)).bytes.equals(FIXTURE_PNG)).toBe(true);
  });

  it('browses an unchanged visit exactly like the snapshot that holds its content', async () => {
    const again = await archive('browse');
    const row = await prisma.archive.findUniqueOrThrow({ where: { id: again.id } });
    expect(row.outcome).toBe('unchanged');
    expect(await walk(again.id)).toEqual(await walk(browse.id));
    const root = await tree(again.id, Buffer.alloc(0));
    expect(root.body).toMatchObject({ archiveId: again.id, commit: browse.commit });
    expect((await file(again.id, '/README.md')).bytes).toEqual((await file(browse.id, '/README.md')).bytes);
  });

  it.each([
    ['an unknown path', 'tree?path=nope', 'PATH_NOT_FOUND'],
    ['an unknown file', 'files/docs/nope.md', 'PATH_NOT_FOUND'],
    ['a file listed as a directory', 'tree?path=README.md', 'NOT_A_DIRECTORY'],
    ['a directory read as a file', 'files/docs', 'NOT_A_FILE'],
    ['the root read as a file', 'files', 'NOT_A_FILE'],
  ])('answers 404 for %s', async (_, route, code) => {
    const res = await client.call<ApiErrorBody>('GET', `/api/archives/${browse.id}/${route}`);
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe(code);
    expect(res.body.error.message.length).toBeGreaterThan(20);
  });

  it.each([
    ['an empty segment', 'tree?path=docs//guide'],
    ['a NUL byte', 'tree?path=docs%00'],
    ['invalid base64', 'tree?pathBase64=***'],
    ['both path and pathBase64', 'tree?path=docs&pathBase64=ZG9jcw=='],
    ['a path given twice', 'tree?path=docs&path=src'],
    ['an address and pathBase64 together', 'files/docs/guide.md?pathBase64=ZG9jcw=='],
  ])('answers 400 for %s', async (_, route) => {
    const res = await client.call<ApiErrorBody>('GET', `/api/archives/${browse.id}/${route}`);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('INVALID_REQUEST');
  });

  it('answers 400 for an address that is not percent-encoded UTF-8', async () => {
    for (const address of ['docs/%zz', 'docs/caf%E9.txt']) {
      expect((await client.call('GET', `/api/archives/${browse.id}/files/${address}`)).status).toBe(400);
    }
  });

  it("hides another user's archive exactly like an unknown one, and shows it to an admin", async () => {
    for (const route of ['tree', 'files/README.md']) {
      const theirs = await client.call<ApiErrorBody>('GET', `/api/archives/${browse.id}/${route}`, { token: tokens.other });
      const unknown = await client.call<ApiErrorBody>('GET', `/api/archives/00000000-0000-4000-8000-000000000000/${route}`, {
        token: tokens.other,
      });
      expect([theirs.status, unknown.status]).toEqual([404, 404]);
      expect(theirs.body.error.code).toBe('NOT_FOUND');
      expect(unknown.body.error.code).toBe('NOT_FOUND');
      expect((await client.call('GET', `/api/archives/${browse.id}/${route}`, { token: tokens.admin })).status).toBe(200);
    }
    expect((await client.call('GET', `/api/archives/${browse.id}/tree`, { token: null })).status).toBe(401);
  });

  it('answers 404 NO_SNAPSHOT for an archive that did not complete', async () => {
    const failed = await settledArchive(client, (await client.submit(git.url('no-such-repository'))).id);
    expect(failed.status).toBe('failed');
    for (const route of ['tree', 'files/README.md']) {
      const res = await client.call<ApiErrorBody>('GET', `/api/archives/${failed.id}/${route}`);
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('NO_SNAPSHOT');
    }
  });
});

import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GitError, GitErrorCode, RepositoryReader, SafeCloner, UrlPolicy, type CloneRequest } from '@archiver/git';
import {
  createFixtureRepos,
  fixtureGit,
  type FixtureRepos,
  type GitHttpServerHandle,
  type GitServerHandle,
  MULTI_FIXTURE_PATHS,
  readAll,
  rejectionOf,
  startGitDaemon,
  startGitHttpServer,
} from '@archiver/testing';

const LOOPBACK = ['127.0.0.0/8', '::1', 'localhost'];
const MiB = 1024 * 1024;

describe('git clone and read against real git servers', () => {
  let base: string;
  let repos: FixtureRepos;
  let http: GitHttpServerHandle;
  let slowHttp: GitHttpServerHandle;
  let daemon: GitServerHandle;
  let counter = 0;
  const sut = new SafeCloner({ policy: new UrlPolicy({ allowedHosts: LOOPBACK }), sizePollIntervalMs: 50 });
  const target = (): string => path.join(base, 'clones', `clone-${++counter}`);
  const request = (url: string, overrides: Partial<CloneRequest> = {}): CloneRequest => ({
    url,
    dir: target(),
    deadlineMs: 30_000,
    maxBytes: 64 * MiB,
    ...overrides,
  });
  const sourceRefs = async (gitDir: string): Promise<Array<{ name: string; sha: string }>> =>
    (await fixtureGit(['for-each-ref', '--format=%(refname) %(objectname)'], gitDir))
      .toString('utf8')
      .trim()
      .split('\n')
      .map((line) => {
        const [name = '', sha = ''] = line.split(' ');
        return { name, sha };
      });

  beforeAll(async () => {
    base = await mkdtemp(path.join(tmpdir(), 'archiver-git-int-'));
    repos = await createFixtureRepos(base);
    http = await startGitHttpServer({ root: repos.root, port: 0 });
    slowHttp = await startGitHttpServer({ root: repos.root, port: 0, latencyMs: 400 });
    daemon = await startGitDaemon({ root: repos.root, port: 0 });
  });

  afterAll(async () => {
    await http?.stop();
    await slowHttp?.stop();
    await daemon?.stop();
    if (base) await rm(base, { recursive: true, force: true });
  });

  describe('multi', () => {
    let reader: RepositoryReader;

    beforeAll(async () => {
      const result = await sut.clone(request(http.url('multi')));
      reader = new RepositoryReader(result.gitDir);
    });

    it('mirrors every ref of the source', async () => {
      const refs = (await reader.refs()).map(({ name, sha }) => ({ name, sha }));
      expect(refs).toEqual(await sourceRefs(repos.multi));
      expect(refs.map((r) => r.name)).toEqual(expect.arrayContaining(['refs/heads/feature/x', 'refs/heads/release', 'refs/tags/v2.0']));
      const annotated = (await reader.refs()).find((r) => r.name === 'refs/tags/v2.0');
      expect(annotated?.peeledSha).toMatch(/^[0-9a-f]{40}$/);
    });

    it('lists the tree with modes, symlinks and odd names, and skips the submodule', async () => {
      const head = await reader.headCommit();
      expect(head).toBe((await fixtureGit(['rev-parse', 'HEAD'], repos.multi)).toString('utf8').trim());
      const entries = await reader.listTree(head as string);
      const byPath = new Map(entries.map((e) => [e.path, e]));
      expect(byPath.get(MULTI_FIXTURE_PATHS.unicode)?.kind).toBe('file');
      expect(byPath.get(MULTI_FIXTURE_PATHS.executable)).toMatchObject({ kind: 'executable', mode: '100755' });
      expect(byPath.get(MULTI_FIXTURE_PATHS.symlink)).toMatchObject({
        kind: 'symlink',
        mode: '120000',
        size: MULTI_FIXTURE_PATHS.symlinkTarget.length,
      });
      expect(byPath.get(MULTI_FIXTURE_PATHS.deep)).toBeDefined();
      expect(byPath.has(MULTI_FIXTURE_PATHS.submodule)).toBe(false);
      expect(byPath.get(MULTI_FIXTURE_PATHS.large)?.size).toBe(1536 * 1024);
    });

    it('streams every blob byte-identical to the source', async () => {
      const entries = await reader.listTree((await reader.headCommit()) as string);
      let seen = 0;
      await reader.streamBlobs(entries, async ({ entry, size, stream }) => {
        const content = await readAll(stream);
        expect(size).toBe(entry.size);
        expect(content.equals(await fixtureGit(['cat-file', 'blob', entry.sha], repos.multi))).toBe(true);
        seen++;
      });
      expect(seen).toBe(entries.length);
    });

    it('skips the unread rest of a blob when the consumer moves on', async () => {
      const entries = await reader.listTree((await reader.headCommit()) as string);
      const large = entries.find((e) => e.path === MULTI_FIXTURE_PATHS.large);
      const readme = entries.find((e) => e.path === 'README.md');
      const blobs = reader.blobs([large!, readme!]);
      const first = await blobs.next();
      // Read just one chunk of the 1.5 MiB blob, then move on.
      await new Promise((resolve) => first.value!.stream.once('data', resolve));
      const second = await blobs.next();
      expect((await readAll(second.value!.stream)).toString('utf8')).toContain('# multi');
      expect((await blobs.next()).done).toBe(true);
    });

    it('bundles all refs', async () => {
      const bundle = await reader.createBundle(path.join(base, 'multi.bundle'));
      const heads = (await fixtureGit(['bundle', 'list-heads', bundle!.path], repos.multi)).toString('utf8');
      for (const ref of await sourceRefs(repos.multi)) expect(heads).toContain(`${ref.sha} ${ref.name}`);
    });
  });

  it('treats an empty repository as having no head and no bundle', async () => {
    const reader = new RepositoryReader((await sut.clone(request(http.url('empty')))).gitDir);
    expect(await reader.headCommit()).toBeNull();
    expect(await reader.refs()).toEqual([]);
    expect(await reader.createBundle(path.join(base, 'empty.bundle'))).toBeNull();
  });

  it('detects a default branch that is not main', async () => {
    const reader = new RepositoryReader((await sut.clone(request(http.url('trunk')))).gitDir);
    expect(await reader.defaultBranch()).toBe('refs/heads/trunk');
    expect(await reader.headCommit()).toBe((await fixtureGit(['rev-parse', 'refs/heads/trunk'], repos.trunk)).toString('utf8').trim());
  });

  it('connects to the vetted address, not to what DNS says later', async () => {
    const policy = new UrlPolicy({ allowedHosts: LOOPBACK, resolve: async () => [{ address: '127.0.0.1', family: 4 }] });
    const pinned = new SafeCloner({ policy });
    // `.test` never resolves in real DNS: only the pin can make git reach the server.
    const result = await pinned.clone(request(`http://git.fixture.test:${http.port}/trunk.git`));
    expect(await new RepositoryReader(result.gitDir).defaultBranch()).toBe('refs/heads/trunk');
  });

  it('answers NOT_FOUND for a missing repository and leaves no directory', async () => {
    const dir = target();
    const error = await rejectionOf(sut.clone(request(http.url('does-not-exist'), { dir })), GitError);
    expect(error.code).toBe(GitErrorCode.NOT_FOUND);
    expect(error.transient).toBe(false);
    expect(error.message).toContain('not found');
    await expect(readdir(dir)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('follows a redirect that stays within the policy', async () => {
    const url = http.redirect('moved', http.url('trunk'));
    const result = await sut.clone(request(url));
    expect(result.fetchedUrl).toBe(`${http.url('trunk')}`);
  });

  it('refuses a redirect to a blocked address without contacting it', async () => {
    const url = http.redirect('to-metadata', 'http://169.254.169.254/latest.git');
    const error = await rejectionOf(sut.clone(request(url)), GitError);
    expect(error.code).toBe(GitErrorCode.REDIRECT_BLOCKED);
    expect(error.message).toContain('169.254.169.254');
  });

  it('refuses redirect loops', async () => {
    const url = http.redirect('loop', `${http.baseUrl}/redirect/loop`);
    expect((await rejectionOf(sut.clone(request(url)), GitError)).code).toBe(GitErrorCode.REDIRECT_BLOCKED);
  });

  it('stops at the deadline before anything is fetched', async () => {
    const dir = target();
    const error = await rejectionOf(sut.clone(request(http.url('multi'), { dir, deadlineMs: 1 })), GitError);
    expect(error.code).toBe(GitErrorCode.TIMED_OUT);
    await expect(readdir(dir)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('kills git at the deadline and removes the partial clone', async () => {
    const dir = target();
    // Each request waits 400 ms: the preflight passes, git's own requests run into the deadline.
    const error = await rejectionOf(sut.clone(request(slowHttp.url('multi'), { dir, deadlineMs: 1000 })), GitError);
    expect(error.code).toBe(GitErrorCode.TIMED_OUT);
    await expect(readdir(dir)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('aborts a clone that outgrows its size cap', async () => {
    const dir = target();
    const error = await rejectionOf(sut.clone(request(http.url('multi'), { dir, maxBytes: 1024 })), GitError);
    expect(error.code).toBe(GitErrorCode.TOO_LARGE);
    await expect(readdir(dir)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('blocks loopback unless it is allowlisted', async () => {
    const strict = new SafeCloner({ policy: new UrlPolicy({ allowedHosts: [] }) });
    const error = await rejectionOf(strict.clone(request(http.url('multi'))), GitError);
    expect(error.code).toBe(GitErrorCode.BLOCKED_BY_POLICY);
    expect(error.message).toContain('loopback');
  });

  it('refuses git:// even though the daemon serves the repository', async () => {
    await fixtureGit(['ls-remote', daemon.url('trunk')], base);
    const error = await rejectionOf(sut.clone(request(daemon.url('trunk'))), GitError);
    expect(error.code).toBe(GitErrorCode.INVALID_URL);
  });
});

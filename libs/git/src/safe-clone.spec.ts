import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { rejectionOf } from '@archiver/testing';
import { GitError, GitErrorCode } from './git.error';
import type { ListRemoteRefsRequest } from './remote-refs';
import { CloneRequest, SafeCloner } from './safe-clone';
import { UrlPolicy } from './url-policy';

// Cloning itself is exercised against real git servers in test/integration/git.int-spec.ts;
// these cover what happens before git runs and how the target directory is treated.
describe(SafeCloner.name, () => {
  let base: string;
  let server: Server;
  let serverUrl: string;
  let counter = 0;
  const asked = new Set<string>();
  const sut = new SafeCloner({ policy: new UrlPolicy({ allowedHosts: ['127.0.0.0/8'] }) });
  const request = (overrides: Partial<CloneRequest> = {}): CloneRequest => ({
    url: `${serverUrl}/r.git`,
    dir: path.join(base, `clone-${++counter}`),
    deadlineMs: 10_000,
    maxBytes: 1024 * 1024,
    ...overrides,
  });

  beforeAll(async () => {
    base = await mkdtemp(path.join(tmpdir(), 'archiver-safe-clone-'));
    server = createServer((req, res) => {
      if (req.url?.startsWith('/hang/')) return; // never answers
      // `/once-ok/<status>/`: the preflight gets a 200, git itself then gets <status>.
      const onceOk = /^\/once-ok\/(\d{3})\//.exec(req.url ?? '');
      if (onceOk) {
        const key = req.url ?? '';
        const first = !asked.has(key);
        asked.add(key);
        res.writeHead(first ? 200 : Number(onceOk[1]), { 'content-type': 'text/plain' }).end();
        return;
      }
      const status = Number(/^\/(\d{3})\//.exec(req.url ?? '')?.[1] ?? 404);
      res.writeHead(status).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    serverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await rm(base, { recursive: true, force: true });
  });

  it.each([{ deadlineMs: 0 }, { maxBytes: 0 }, { deadlineMs: Number.NaN }])('refuses %j', async (overrides) => {
    expect((await rejectionOf(sut.clone(request(overrides)), GitError)).code).toBe(GitErrorCode.INVALID_ARGUMENT);
  });

  it.each([
    ['an SSH URL without a credential', { url: 'ssh://git@127.0.0.1:1/o/r.git' }, GitErrorCode.AUTH_REQUIRED, /needs an SSH key/],
    [
      'an SSH URL with a token',
      { url: 'git@127.0.0.1:o/r.git', credential: { username: 'u', password: 'p' } },
      GitErrorCode.AUTH_REQUIRED,
      /cannot log in over SSH/,
    ],
    [
      'an http URL with an SSH key',
      { credential: { privateKey: '-----BEGIN OPENSSH PRIVATE KEY-----\n' } },
      GitErrorCode.INVALID_ARGUMENT,
      /SSH key/,
    ],
    ['an SSH URL to an address the policy refuses', { url: 'ssh://git@10.0.0.1/o/r.git' }, GitErrorCode.BLOCKED_BY_POLICY, /private/],
  ] as const)('refuses %s before any connection, leaving nothing behind', async (_what, overrides, code, message) => {
    const before = await readdir(base);
    const refused = await rejectionOf(sut.clone(request(overrides)), GitError);
    expect(refused).toMatchObject({ code, message: expect.stringMatching(message) });
    expect((await readdir(base)).filter((entry) => !before.includes(entry))).toEqual([]);
  });

  it('refuses to clone into a directory that has content, and leaves it alone', async () => {
    const dir = path.join(base, 'occupied');
    await mkdir(dir);
    await writeFile(path.join(dir, 'keep.txt'), 'mine');
    expect((await rejectionOf(sut.clone(request({ dir })), GitError)).code).toBe(GitErrorCode.INVALID_ARGUMENT);
    expect(await readdir(dir)).toEqual(['keep.txt']);
  });

  it('checks the policy before touching the network or creating the directory', async () => {
    const strict = new SafeCloner({ policy: new UrlPolicy({ allowedHosts: [] }) });
    const dir = path.join(base, 'never-created');
    const error = await rejectionOf(strict.clone(request({ dir })), GitError);
    expect(error.code).toBe(GitErrorCode.BLOCKED_BY_POLICY);
    await expect(readdir(dir)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('keeps an empty directory the caller prepared, but empty', async () => {
    const dir = path.join(base, 'prepared');
    await mkdir(dir);
    expect((await rejectionOf(sut.clone(request({ dir, url: `${serverUrl}/404/r.git` })), GitError)).code).toBe(GitErrorCode.NOT_FOUND);
    expect(await readdir(dir)).toEqual([]);
  });

  it.each([
    ['401', GitErrorCode.AUTH_REQUIRED],
    ['404', GitErrorCode.NOT_FOUND],
    ['503', GitErrorCode.NETWORK],
  ])('fails fast with the preflight answer %s', async (status, code) => {
    expect((await rejectionOf(sut.clone(request({ url: `${serverUrl}/${status}/r.git` })), GitError)).code).toBe(code);
  });

  it.each([
    ['404', GitErrorCode.NOT_FOUND],
    ['401', GitErrorCode.AUTH_REQUIRED],
    ['500', GitErrorCode.NETWORK],
  ])("maps git's own failure on HTTP %s to %s and removes the directory", async (status, code) => {
    const dir = path.join(base, `once-ok-${status}`);
    const error = await rejectionOf(sut.clone(request({ dir, url: `${serverUrl}/once-ok/${status}/r.git` })), GitError);
    expect(error.code).toBe(code);
    expect(error.detail).toMatch(/fatal:/);
    await expect(readdir(dir)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('reports an aborted signal as ABORTED (transient: the job should run again)', async () => {
    const controller = new AbortController();
    controller.abort();
    const error = await rejectionOf(sut.clone(request({ signal: controller.signal })), GitError);
    expect(error).toMatchObject({ code: GitErrorCode.ABORTED, transient: true });
  });

  it('reports the deadline as TIMED_OUT, whichever step it interrupts', async () => {
    const error = await rejectionOf(sut.clone(request({ url: `${serverUrl}/hang/r.git`, deadlineMs: 50 })), GitError);
    expect(error).toMatchObject({ code: GitErrorCode.TIMED_OUT, transient: false });
  });

  it('rejects a git:// URL as invalid', async () => {
    expect((await rejectionOf(sut.clone(request({ url: 'git://127.0.0.1/r.git' })), GitError)).code).toBe(GitErrorCode.INVALID_URL);
  });
});

// The probe shares the clone's whole guarded path; these show it ends the same ways.
describe(`${SafeCloner.name}.listRemoteRefs`, () => {
  let server: Server;
  let serverUrl: string;
  const asked = new Set<string>();
  const sut = new SafeCloner({ policy: new UrlPolicy({ allowedHosts: ['127.0.0.0/8'] }) });
  const probe = (overrides: Partial<ListRemoteRefsRequest> = {}) =>
    sut.listRemoteRefs({ url: `${serverUrl}/r.git`, deadlineMs: 10_000, ...overrides });

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url?.startsWith('/hang/')) return;
      const onceOk = /^\/once-ok\/(\d{3})\//.exec(req.url ?? '');
      const first = !asked.has(req.url ?? '');
      asked.add(req.url ?? '');
      if (onceOk) return void res.writeHead(first ? 200 : Number(onceOk[1]), { 'content-type': 'text/plain' }).end();
      res.writeHead(Number(/^\/(\d{3})\//.exec(req.url ?? '')?.[1] ?? 404)).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    serverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it.each([0, -1, Number.NaN])('refuses deadlineMs %p', async (deadlineMs) => {
    expect((await rejectionOf(probe({ deadlineMs }), GitError)).code).toBe(GitErrorCode.INVALID_ARGUMENT);
  });

  it.each([
    ['a host outside the allowlist', 'http://127.0.0.1:1/r.git', [] as string[], GitErrorCode.BLOCKED_BY_POLICY],
    ['a git:// URL', 'git://127.0.0.1/r.git', ['127.0.0.0/8'], GitErrorCode.INVALID_URL],
    ['credentials in the URL', 'http://user:secret@127.0.0.1/r.git', ['127.0.0.0/8'], GitErrorCode.INVALID_URL],
  ])('checks the policy first: %s is %s', async (_what, url, allowedHosts, code) => {
    const strict = new SafeCloner({ policy: new UrlPolicy({ allowedHosts }) });
    const error = await rejectionOf(strict.listRemoteRefs({ url, deadlineMs: 10_000 }), GitError);
    expect(error.code).toBe(code);
    expect(error.message).not.toContain('secret');
  });

  it.each([
    ['401', GitErrorCode.AUTH_REQUIRED],
    ['404', GitErrorCode.NOT_FOUND],
    ['503', GitErrorCode.NETWORK],
  ])('fails fast with the preflight answer %s', async (status, code) => {
    expect((await rejectionOf(probe({ url: `${serverUrl}/${status}/r.git` }), GitError)).code).toBe(code);
  });

  it.each([
    ['404', GitErrorCode.NOT_FOUND],
    ['401', GitErrorCode.AUTH_REQUIRED],
    ['500', GitErrorCode.NETWORK],
  ])("maps git's own failure on HTTP %s to %s, with git's stderr as detail", async (status, code) => {
    const error = await rejectionOf(probe({ url: `${serverUrl}/once-ok/${status}/r.git` }), GitError);
    expect(error.code).toBe(code);
    expect(error.detail).toMatch(/fatal:/);
  });

  it('reports an aborted signal as ABORTED (transient)', async () => {
    const controller = new AbortController();
    controller.abort();
    expect(await rejectionOf(probe({ signal: controller.signal }), GitError)).toMatchObject({
      code: GitErrorCode.ABORTED,
      transient: true,
    });
  });

  it('reports the deadline as TIMED_OUT, naming the probe', async () => {
    const error = await rejectionOf(probe({ url: `${serverUrl}/hang/r.git`, deadlineMs: 50 }), GitError);
    expect(error).toMatchObject({ code: GitErrorCode.TIMED_OUT, transient: false });
    expect(error.message).toContain('Listing the refs of');
  });
});

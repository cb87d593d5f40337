import { createServer, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { rejectionOf } from '@archiver/testing';
import { GitError, GitErrorCode } from './git.error';
import { preflightRepository, PreflightOptions } from './redirect-preflight';
import { UrlPolicy } from './url-policy';

type Route = (res: ServerResponse, path: string) => void;

/** A loopback HTTP server whose answer per path the test decides; records what was asked. */
async function startServer(
  routes: Record<string, Route>,
): Promise<{ base: string; port: number; hits: string[]; authorizations: (string | undefined)[]; server: Server }> {
  const hits: string[] = [];
  const authorizations: (string | undefined)[] = [];
  const server = createServer((req, res) => {
    const path = req.url ?? '/';
    hits.push(path);
    authorizations.push(req.headers.authorization);
    const route = routes[path.replace(/\?.*$/, '')];
    if (route) route(res, path);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { base: `http://127.0.0.1:${port}`, port, hits, authorizations, server };
}

const ok: Route = (res) =>
  res.writeHead(200, { 'content-type': 'application/x-git-upload-pack-advertisement' }).end('001e# service=git-upload-pack\n');
const status =
  (code: number): Route =>
  (res) =>
    res.writeHead(code).end();
const redirectTo =
  (location: string, code = 301): Route =>
  (res) =>
    res.writeHead(code, { location }).end();

/** Pkt-lines forever, as fast as the client reads them. */
function streamEndlessly(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/x-git-upload-pack-advertisement' });
  const line = `${'0'.repeat(40)} refs/heads/branch\n`;
  const chunk = `${(line.length + 4).toString(16).padStart(4, '0')}${line}`.repeat(256);
  const pump = (): void => {
    while (!res.destroyed && res.write(chunk));
  };
  res.on('drain', pump);
  pump();
}

describe(preflightRepository.name, () => {
  const servers: Server[] = [];
  const policy = new UrlPolicy({ allowedHosts: ['127.0.0.0/8'] });
  const options = (overrides: Partial<PreflightOptions> = {}): PreflightOptions => ({
    policy,
    signal: new AbortController().signal,
    requestTimeoutMs: 2000,
    maxRedirects: 5,
    ...overrides,
  });
  const serve = async (routes: Record<string, Route>) => {
    const started = await startServer(routes);
    servers.push(started.server);
    return started;
  };

  afterAll(async () => {
    for (const server of servers) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('asks for the ref advertisement and keeps the URL when the server answers 200', async () => {
    const { base, hits } = await serve({ '/o/r.git/info/refs': ok });
    const start = await policy.check(`${base}/o/r.git/`);
    await expect(preflightRepository(start, options())).resolves.toBe(start);
    expect(hits).toEqual(['/o/r.git/info/refs?service=git-upload-pack']);
  });

  it('connects to the vetted address even for a name DNS does not know', async () => {
    const { port } = await serve({ '/r.git/info/refs': ok });
    const pinned = new UrlPolicy({ allowedHosts: ['127.0.0.1'], resolve: async () => [{ address: '127.0.0.1', family: 4 }] });
    const start = await pinned.check(`http://git.fixture.test:${port}/r.git`);
    await expect(preflightRepository(start, options({ policy: pinned }))).resolves.toBe(start);
  });

  it('follows vetted redirects, relative ones included, and returns the final base URL', async () => {
    const { base } = await serve({
      '/old.git/info/refs': redirectTo('/middle.git/info/refs?service=git-upload-pack', 302),
      '/middle.git/info/refs': (res) => redirectTo(`${base}/new.git/info/refs?service=git-upload-pack`, 308)(res, ''),
      '/new.git/info/refs': ok,
    });
    const final = await preflightRepository(await policy.check(`${base}/old.git`), options());
    expect(final.url).toBe(`${base}/new.git`);
    expect(final.normalizedUrl).toBe(`${base}/new`);
  });

  it.each([
    ['http://169.254.169.254/latest/info/refs?service=git-upload-pack', 'link-local'],
    ['http://10.0.0.1/r.git/info/refs?service=git-upload-pack', 'private'],
    ['http://[::1]/r.git/info/refs?service=git-upload-pack', 'loopback'],
    ['file:///etc/info/refs?service=git-upload-pack', 'https://'],
    ['https://127.0.0.1/login', 'not a git endpoint'],
  ])('refuses a redirect to %s', async (location, why) => {
    const { base, hits } = await serve({ '/r.git/info/refs': redirectTo(location) });
    const error = await rejectionOf(preflightRepository(await policy.check(`${base}/r.git`), options()), GitError);
    expect(error.code).toBe(GitErrorCode.REDIRECT_BLOCKED);
    expect(error.message).toContain(why);
    expect(hits).toHaveLength(1);
  });

  it('does not repeat credentials from a redirect target', async () => {
    const { base } = await serve({ '/r.git/info/refs': redirectTo('http://bob:hunter2@127.0.0.1/x/info/refs?service=git-upload-pack') });
    const error = await rejectionOf(preflightRepository(await policy.check(`${base}/r.git`), options()), GitError);
    expect(error.code).toBe(GitErrorCode.REDIRECT_BLOCKED);
    expect(error.message).not.toContain('hunter2');
  });

  it('gives up after the maximum number of hops', async () => {
    const { base, hits } = await serve({ '/loop.git/info/refs': redirectTo('/loop.git/info/refs?service=git-upload-pack') });
    const error = await rejectionOf(preflightRepository(await policy.check(`${base}/loop.git`), options({ maxRedirects: 3 })), GitError);
    expect(error.code).toBe(GitErrorCode.REDIRECT_BLOCKED);
    expect(hits).toHaveLength(4);
  });

  it.each([
    [401, GitErrorCode.AUTH_REQUIRED, false],
    [403, GitErrorCode.AUTH_REQUIRED, false],
    [404, GitErrorCode.NOT_FOUND, false],
    [410, GitErrorCode.NOT_FOUND, false],
    [429, GitErrorCode.RATE_LIMITED, true],
    [503, GitErrorCode.NETWORK, true],
    [418, GitErrorCode.GIT_FAILED, false],
    [302, GitErrorCode.REDIRECT_BLOCKED, false],
  ])('maps HTTP %s to %s', async (code, expected, transient) => {
    const { base } = await serve({ '/r.git/info/refs': status(code) });
    const error = await rejectionOf(preflightRepository(await policy.check(`${base}/r.git`), options()), GitError);
    expect(error).toMatchObject({ code: expected, transient });
  });

  it.each([
    [429, '3', GitErrorCode.RATE_LIMITED, '3'],
    [429, 'Wed, 21 Oct 2026 07:28:00 GMT', GitErrorCode.RATE_LIMITED, 'Wed, 21 Oct 2026 07:28:00 GMT'],
    [503, '120', GitErrorCode.RATE_LIMITED, '120'],
    [502, '120', GitErrorCode.NETWORK, undefined],
  ])('passes on HTTP %s with Retry-After %j as %s, the header kept for the backoff', async (code, retryAfter, expected, kept) => {
    const { base } = await serve({ '/r.git/info/refs': (res) => res.writeHead(code, { 'retry-after': retryAfter }).end() });
    const error = await rejectionOf(preflightRepository(await policy.check(`${base}/r.git`), options()), GitError);
    expect(error).toMatchObject({ code: expected, transient: true });
    expect(error.retryAfter).toBe(kept);
  });

  it('reports a refused connection as transient', async () => {
    const { base, server } = await serve({});
    await new Promise((resolve) => server.close(resolve));
    const error = await rejectionOf(preflightRepository(await policy.check(`${base}/r.git`), options()), GitError);
    expect(error).toMatchObject({ code: GitErrorCode.NETWORK, transient: true });
  });

  it('ends a request that never answers as TIMED_OUT when its own bound is set', async () => {
    const { base } = await serve({ '/r.git/info/refs': () => undefined });
    const error = await rejectionOf(preflightRepository(await policy.check(`${base}/r.git`), options({ requestTimeoutMs: 100 })), GitError);
    expect(error).toMatchObject({ code: GitErrorCode.TIMED_OUT, transient: false });
    expect(error.message).toContain('did not answer within 100 ms');
  });

  it.each([
    ['never answers', (): void => undefined],
    ['sends headers, then stalls the advertisement', (res: ServerResponse): void => void res.writeHead(200).write('001e# service')],
  ])("ends with the caller's reason (the clone's deadline) when the server %s", async (_what, route) => {
    const { base } = await serve({ '/r.git/info/refs': route });
    const controller = new AbortController();
    const reason = new GitError(GitErrorCode.TIMED_OUT, 'deadline');
    setTimeout(() => controller.abort(reason), 100);
    const unbounded = options({ signal: controller.signal, requestTimeoutMs: undefined });
    await expect(preflightRepository(await policy.check(`${base}/r.git`), unbounded)).rejects.toBe(reason);
  });

  it.each([
    ['endless', (res: ServerResponse): void => streamEndlessly(res)],
    ['one byte over the cap', (res: ServerResponse): void => void res.writeHead(200).end(Buffer.alloc(4097, 0x41))],
  ])('refuses an advertisement that is %s as TOO_LARGE', async (_what, route) => {
    const { base } = await serve({ '/r.git/info/refs': route });
    const error = await rejectionOf(
      preflightRepository(await policy.check(`${base}/r.git`), options({ maxAdvertisementBytes: 4096 })),
      GitError,
    );
    expect(error).toMatchObject({ code: GitErrorCode.TOO_LARGE, transient: false });
    expect(error.message).toContain('larger than 4096 bytes');
  });

  it('reads an advertisement exactly at the cap', async () => {
    const { base } = await serve({ '/r.git/info/refs': (res) => res.writeHead(200).end(Buffer.alloc(4096, 0x41)) });
    const start = await policy.check(`${base}/r.git`);
    await expect(preflightRepository(start, options({ maxAdvertisementBytes: 4096 }))).resolves.toBe(start);
  });

  it('describes failures without promising what happens next', async () => {
    const { base, server } = await serve({ '/busy.git/info/refs': status(503), '/hang.git/info/refs': () => undefined });
    const messages = [
      (await rejectionOf(preflightRepository(await policy.check(`${base}/busy.git`), options()), GitError)).message,
      (await rejectionOf(preflightRepository(await policy.check(`${base}/hang.git`), options({ requestTimeoutMs: 50 })), GitError)).message,
    ];
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    messages.push((await rejectionOf(preflightRepository(await policy.check(`${base}/r.git`), options()), GitError)).message);
    for (const message of messages) expect(message).not.toMatch(/retry|try again|later|will /i);
  });

  it("rethrows the caller's abort reason", async () => {
    const controller = new AbortController();
    const reason = new GitError(GitErrorCode.TIMED_OUT, 'deadline');
    // The server never answers; the caller aborts once the request is in flight.
    const { base } = await serve({ '/r.git/info/refs': () => controller.abort(reason) });
    await expect(preflightRepository(await policy.check(`${base}/r.git`), options({ signal: controller.signal }))).rejects.toBe(reason);
  });

  describe('with a credential', () => {
    const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

    it("sends it to the repository's own origin, also after a redirect there, and to no other origin", async () => {
      const elsewhere = await serve({ '/moved.git/info/refs': ok });
      const { base, authorizations } = await serve({
        '/o/r.git/info/refs': redirectTo('/o/same.git/info/refs?service=git-upload-pack'),
        '/o/same.git/info/refs': redirectTo(`${elsewhere.base}/moved.git/info/refs?service=git-upload-pack`),
      });
      const start = await policy.check(`${base}/o/r.git`);
      const credential = { origin: new URL(start.url).origin, username: 'u', password: 'p4ss' };
      const target = await preflightRepository(start, options({ credential }));
      expect(target.url).toBe(`${elsewhere.base}/moved.git`);
      expect(authorizations).toEqual([basic('u', 'p4ss'), basic('u', 'p4ss')]);
      expect(elsewhere.authorizations).toEqual([undefined]);
    });

    it.each([401, 403])('says a refused credential (HTTP %i) was refused, not that the repository is public-only', async (code) => {
      const { base } = await serve({ '/r.git/info/refs': status(code) });
      const start = await policy.check(`${base}/r.git`);
      const refused = await rejectionOf(
        preflightRepository(start, options({ credential: { origin: base, username: 'u', password: 'p' } })),
        GitError,
      );
      expect(refused.code).toBe(GitErrorCode.AUTH_REQUIRED);
      expect(refused.message).toMatch(/refused the repository's credential/);
      const anonymous = await rejectionOf(preflightRepository(start, options()), GitError);
      expect(anonymous.message).toMatch(/requires authentication/);
    });
  });
});

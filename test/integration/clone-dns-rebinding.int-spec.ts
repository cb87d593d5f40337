import { lookup } from 'node:dns/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GitError, GitErrorCode, RepositoryReader, SafeCloner, UrlPolicy } from '@archiver/git';
import {
  createFixtureRepos,
  startGitHttpServer,
  startRebindingDnsServer,
  type FixtureRepos,
  type GitHttpServerHandle,
  type RebindingDnsServerHandle,
} from '@archiver/testing';

const ALLOWED = '127.0.0.2';
const BLOCKED = '127.0.0.3';
/** Only our DNS server knows it: the system resolver (and so curl's own) has no answer. */
const NAME = 'rebind.archiver.test';

async function rejection(work: Promise<unknown>): Promise<GitError> {
  const error = await work.then(
    () => new Error('expected a failure'),
    (e: unknown) => e,
  );
  if (!(error instanceof GitError)) throw error;
  return error;
}

// A DNS rebinding attacker answers an allowed address when the name is checked and a blocked
// one a moment later. Every path that resolves a user's host (the clone's policy check, each
// redirect hop, and git/curl's own connection) must connect only where the check looked.
// Two real git servers share a port on different loopback addresses; the blocked one counts
// its requests, and they must stay 0.
describe('DNS rebinding never leads a connection to a blocked address', () => {
  let base: string;
  let repos: FixtureRepos;
  let allowed: GitHttpServerHandle;
  let blocked: GitHttpServerHandle;
  let dns: RebindingDnsServerHandle;
  let policy: UrlPolicy;
  let sut: SafeCloner;
  let counter = 0;
  const dir = (): string => path.join(base, 'clones', `clone-${++counter}`);
  const clone = (url: string) => sut.clone({ url, dir: dir(), deadlineMs: 30_000, maxBytes: 1 << 26 });
  const byName = (name: string, host = NAME): string => `http://${host}:${allowed.port}/${name}.git`;

  beforeAll(async () => {
    base = await mkdtemp(path.join(tmpdir(), 'archiver-rebinding-int-'));
    repos = await createFixtureRepos(base);
    allowed = await startGitHttpServer({ root: repos.root, host: ALLOWED, port: 0 });
    blocked = await startGitHttpServer({ root: repos.root, host: BLOCKED, port: allowed.port });
    dns = await startRebindingDnsServer({ name: NAME, answers: [ALLOWED, BLOCKED] });
    policy = new UrlPolicy({ allowedHosts: [ALLOWED], dnsServers: [dns.server] });
    sut = new SafeCloner({ policy, sizePollIntervalMs: 50 });
  });

  beforeEach(() => dns.reset([ALLOWED, BLOCKED]));

  afterEach(() => expect(blocked.requests).toBe(0));

  afterAll(async () => {
    await allowed?.stop();
    await blocked?.stop();
    await dns?.stop();
    if (base) await rm(base, { recursive: true, force: true });
  });

  it('the attacker is real: the same name passes the check, then resolves to the blocked address', async () => {
    await expect(lookup(NAME)).rejects.toMatchObject({ code: expect.stringMatching(/ENOTFOUND|EAI_AGAIN/) });
    expect((await policy.check(byName('trunk'))).addresses).toEqual([{ address: ALLOWED, family: 4 }]);
    const second = await rejection(policy.check(byName('trunk')));
    expect(second.code).toBe(GitErrorCode.BLOCKED_BY_POLICY);
    expect(second.message).toContain(BLOCKED);
    expect(dns.aQueries).toBe(2);
  });

  it('the clone resolves once, then the preflight and git connect only to the vetted address', async () => {
    const result = await clone(byName('trunk'));
    expect(await new RepositoryReader(result.gitDir).defaultBranch()).toBe('refs/heads/trunk');
    // One A query in all: neither the preflight nor git asked again. The next answer is the blocked one.
    expect(dns.aQueries).toBe(1);
    expect(allowed.requests).toBeGreaterThanOrEqual(3);
    expect((await rejection(policy.check(byName('trunk')))).code).toBe(GitErrorCode.BLOCKED_BY_POLICY);
  });

  it('a name that resolves to the blocked address at the check is refused before any connection', async () => {
    dns.reset([BLOCKED, ALLOWED]);
    const error = await rejection(clone(byName('trunk')));
    expect(error.code).toBe(GitErrorCode.BLOCKED_BY_POLICY);
  });

  it('a redirect hop to the name is resolved once, and the preflight and git follow it to the vetted address', async () => {
    const url = allowed.redirect('to-rebinding-name', byName('trunk'));
    const result = await clone(url);
    expect(result.fetchedUrl).toBe(byName('trunk'));
    expect(await new RepositoryReader(result.gitDir).defaultBranch()).toBe('refs/heads/trunk');
    expect(dns.aQueries).toBe(1);
  });

  it('a redirect hop whose name resolves to the blocked address is refused', async () => {
    dns.reset([BLOCKED]);
    const error = await rejection(clone(allowed.redirect('to-blocked-answer', byName('trunk'))));
    expect(error.code).toBe(GitErrorCode.REDIRECT_BLOCKED);
    expect(error.message).toContain(BLOCKED);
  });

  describe('the change probe (ls-remote) is held to the same', () => {
    const probe = (url: string) => sut.listRemoteRefs({ url, deadlineMs: 30_000 });

    it('resolves once, then the preflight and git connect only to the vetted address', async () => {
      const before = allowed.requestLog.length;
      const result = await probe(byName('trunk'));
      expect(result.head?.target?.name).toBe('refs/heads/trunk');
      expect(result.refs.map((r) => r.name)).toEqual(['refs/heads/trunk']);
      expect(dns.aQueries).toBe(1);
      expect(allowed.requestLog.length - before).toBeGreaterThanOrEqual(2);
    });

    it('a name that resolves to the blocked address at the check is refused before any connection', async () => {
      dns.reset([BLOCKED, ALLOWED]);
      expect((await rejection(probe(byName('trunk')))).code).toBe(GitErrorCode.BLOCKED_BY_POLICY);
    });

    it('a redirect hop to the name is resolved once and followed to the vetted address', async () => {
      const result = await probe(allowed.redirect('probe-to-rebinding-name', byName('trunk')));
      expect(result.fetchedUrl).toBe(byName('trunk'));
      expect(result.refs).toHaveLength(1);
      expect(dns.aQueries).toBe(1);
    });

    it('a redirect hop whose name resolves to the blocked address is refused', async () => {
      dns.reset([BLOCKED]);
      const error = await rejection(probe(allowed.redirect('probe-to-blocked-answer', byName('trunk'))));
      expect(error.code).toBe(GitErrorCode.REDIRECT_BLOCKED);
      expect(error.message).toContain(BLOCKED);
    });
  });

  describe('when the host system itself would resolve the name to a blocked address', () => {
    let local: GitHttpServerHandle;

    beforeAll(async () => {
      // curl and the system resolver answer "localhost" with 127.0.0.1 on their own: a server
      // there, on the same port, catches any connection made by a resolver other than the pin.
      local = await startGitHttpServer({ root: repos.root, host: '127.0.0.1', port: allowed.port });
    });

    afterAll(async () => local?.stop());

    it('git still connects to the vetted address only (curl is pinned, it does not resolve again)', async () => {
      const rebinding = await startRebindingDnsServer({ name: 'localhost', answers: [ALLOWED, '127.0.0.1'] });
      try {
        const pinned = new SafeCloner({ policy: new UrlPolicy({ allowedHosts: [ALLOWED], dnsServers: [rebinding.server] }) });
        const result = await pinned.clone({ url: byName('multi', 'localhost'), dir: dir(), deadlineMs: 30_000, maxBytes: 1 << 26 });
        expect((await new RepositoryReader(result.gitDir).refs()).length).toBeGreaterThan(3);
        expect(rebinding.aQueries).toBe(1);
        expect(local.requests).toBe(0);
      } finally {
        await rebinding.stop();
      }
    });

    it('the probe too: git ls-remote connects to the vetted address only (curl is pinned)', async () => {
      const rebinding = await startRebindingDnsServer({ name: 'localhost', answers: [ALLOWED, '127.0.0.1'] });
      try {
        const pinned = new SafeCloner({ policy: new UrlPolicy({ allowedHosts: [ALLOWED], dnsServers: [rebinding.server] }) });
        const before = allowed.requestLog.length;
        const result = await pinned.listRemoteRefs({ url: byName('multi', 'localhost'), deadlineMs: 30_000 });
        expect(result.refs.length).toBeGreaterThan(3);
        expect(allowed.requestLog.length - before).toBeGreaterThanOrEqual(2);
        expect(rebinding.aQueries).toBe(1);
        expect(local.requests).toBe(0);
      } finally {
        await rebinding.stop();
      }
    });
  });
});

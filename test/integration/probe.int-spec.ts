import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  GitError,
  GitErrorCode,
  refsHash,
  RepositoryReader,
  SafeCloner,
  UrlPolicy,
  type RemoteRefs,
  type SafeClonerOptions,
} from '@archiver/git';
import {
  createFixtureRepos,
  fixtureGit,
  startGitHttpServer,
  startHostileGitServer,
  type GitHttpServerHandle,
  type HostileBehaviour,
  type HostileGitServerHandle,
  rejectionOf,
} from '@archiver/testing';
import { CraftedRepository } from '../../libs/git/src/tree-crafter';

const LOOPBACK = ['127.0.0.0/8'];
const MiB = 1024 * 1024;
/** Fixture repositories: the shared ones, plus `odd` (names that are not UTF-8, a tag of a tag) and `many` (3000 refs). */
const REPOS = ['multi', 'trunk', 'empty', 'odd'] as const;
const PROTOCOLS = ['v0', 'client-choice'] as const;

/** `<sha> <name>\n` for each ref, and `<peeled> <name>^{}\n` for each tag: the format of `git show-ref -d`. */
function asShowRef(refs: RemoteRefs['refs']): Buffer {
  return Buffer.concat(
    refs.flatMap((r) => [
      Buffer.from(`${r.sha} `),
      r.nameBytes,
      Buffer.from('\n'),
      ...(r.peeledSha ? [Buffer.from(`${r.peeledSha} `), r.nameBytes, Buffer.from('^{}\n')] : []),
    ]),
  );
}

/** A repository a hostile host could serve: ref names of any bytes, tags of tags, HEAD on a branch. */
async function buildOdd(gitDir: string): Promise<void> {
  const repo = await CraftedRepository.init(gitDir);
  const tree = await repo.tree([{ mode: '100644', name: 'f', sha: await repo.blob('odd\n') }]);
  const first = await repo.commit(tree, 'first');
  const second = await repo.commit(tree, 'second', [first]);
  const tag = await repo.tagObject(second, 'commit', 'annotated', 1_700_000_000);
  const tagOfTag = await repo.tagObject(tag, 'tag', 'outer', 1_700_000_001);
  const bytes = (...parts: (string | number[])[]): Buffer => Buffer.concat(parts.map((p) => Buffer.from(p as string)));
  await repo.updateRefs([
    { name: 'refs/heads/main', sha: second },
    { name: bytes('refs/heads/a', [0xff, 0x62, 0x72]), sha: first },
    { name: bytes('refs/heads/caf', [0xc3, 0xa9]), sha: second },
    { name: bytes('refs/tags/v', [0xc3, 0x28]), sha: tag },
    { name: 'refs/tags/annotated', sha: tag },
    { name: 'refs/tags/outer', sha: tagOfTag },
    { name: 'refs/notes/commits', sha: first },
    { name: 'refs/pull/1/head', sha: first },
  ]);
}

async function buildMany(gitDir: string, count: number): Promise<void> {
  const repo = await CraftedRepository.init(gitDir);
  const commit = await repo.commit(await repo.tree([{ mode: '100644', name: 'f', sha: await repo.blob('many\n') }]));
  await repo.updateRefs(Array.from({ length: count }, (_, i) => ({ name: `refs/tags/release-with-a-long-name-${i}`, sha: commit })));
}

// The change probe lists a remote's refs with git ls-remote, through the clone's own guarded
// path. What it reports must be exactly what the server holds, byte for byte, and cost the
// server nothing but the ref advertisement.
describe('the change probe (SafeCloner.listRemoteRefs) against real git servers', () => {
  let base: string;
  let root: string;
  const servers = {} as Record<(typeof PROTOCOLS)[number], GitHttpServerHandle>;
  const hostiles: HostileGitServerHandle[] = [];
  const prober = (options: Partial<SafeClonerOptions> = {}): SafeCloner =>
    new SafeCloner({ policy: new UrlPolicy({ allowedHosts: LOOPBACK }), tempDir: path.join(base, 'tmp'), ...options });
  const sut = (): SafeCloner => prober();
  const hostile = async (behaviour: HostileBehaviour): Promise<HostileGitServerHandle> => {
    const server = await startHostileGitServer({ behaviour, root });
    hostiles.push(server);
    return server;
  };

  beforeAll(async () => {
    base = await mkdtemp(path.join(tmpdir(), 'archiver-probe-int-'));
    root = (await createFixtureRepos(base)).root;
    await buildOdd(path.join(root, 'odd.git'));
    await buildMany(path.join(root, 'many.git'), 3000);
    for (const protocol of PROTOCOLS) servers[protocol] = await startGitHttpServer({ root, port: 0, protocol });
  });

  afterAll(async () => {
    for (const server of [...Object.values(servers), ...hostiles]) await server?.stop();
    if (base) await rm(base, { recursive: true, force: true });
  });

  describe.each(PROTOCOLS)('from a server speaking %s', (protocol) => {
    it.each(REPOS)('lists the refs of %s exactly as the source holds them, byte for byte', async (name) => {
      const source = path.join(root, `${name}.git`);
      const result = await sut().listRemoteRefs({ url: servers[protocol].url(name), deadlineMs: 30_000 });

      const forEachRef = await fixtureGit(['for-each-ref', '--format=%(objectname) %(refname)'], source);
      expect(asShowRef(result.refs.map(({ peeledSha: _, ...ref }) => ref))).toEqual(forEachRef);
      // show-ref -d peels fully, as `^{}` means (for-each-ref's %(*objectname) peels one level).
      const showRef = result.refs.length === 0 ? Buffer.alloc(0) : await fixtureGit(['show-ref', '-d'], source);
      expect(asShowRef(result.refs)).toEqual(showRef);
      expect(result.refsHash).toBe(refsHash(result.refs));
      if (name === 'empty') return expect(result.refs).toEqual([]);
      const headTarget = (await fixtureGit(['symbolic-ref', 'HEAD'], source)).subarray(0, -1);
      expect(result.head?.target?.nameBytes).toEqual(headTarget);
      expect(result.head?.sha).toBe((await fixtureGit(['rev-parse', 'HEAD'], source)).toString('latin1').trim());
    });

    it.each(REPOS)('gives %s the same refsHash as RepositoryReader gives a mirror clone of it', async (name) => {
      const probed = await sut().listRemoteRefs({ url: servers[protocol].url(name), deadlineMs: 30_000 });
      const dir = path.join(base, 'clones', `${protocol}-${name}`);
      const clone = await sut().clone({ url: servers[protocol].url(name), dir, deadlineMs: 30_000, maxBytes: 64 * MiB });
      const cloned = await new RepositoryReader(clone.gitDir).refs();
      expect(refsHash(cloned)).toBe(probed.refsHash);
      expect(cloned.map((r) => [r.nameBytes, r.sha])).toEqual(probed.refs.map((r) => [r.nameBytes, r.sha]));
    });

    it('asks the server for the ref advertisement only, never for a pack (a clone, the control, does)', async () => {
      const server = servers[protocol];
      const requestsOf = (from: number) => server.requestLog.slice(from).filter((r) => r.path.startsWith('/multi.git/'));
      const before = server.requestLog.length;
      await sut().listRemoteRefs({ url: server.url('multi'), deadlineMs: 30_000 });
      const probed = requestsOf(before);
      expect(probed.filter((r) => r.method === 'GET').map((r) => r.path)).toEqual(['/multi.git/info/refs', '/multi.git/info/refs']);
      const posts = probed.filter((r) => r.method !== 'GET');
      // v0 lists refs in the GET's answer; v2 asks `ls-refs` by POST and nothing else.
      expect(posts.map((r) => r.command ?? 'a v0 fetch')).toEqual(protocol === 'v0' ? [] : ['ls-refs']);

      const beforeClone = server.requestLog.length;
      await sut().clone({
        url: server.url('multi'),
        dir: path.join(base, 'clones', `control-${protocol}`),
        deadlineMs: 30_000,
        maxBytes: 64 * MiB,
      });
      const fetches = requestsOf(beforeClone).filter((r) => r.method === 'POST' && (r.command ?? 'fetch') === 'fetch');
      expect(fetches.length).toBeGreaterThan(0);
    });

    it('refuses more refs than the advertisement cap allows as TOO_LARGE, whether the preflight or git sees them', async () => {
      const capped = prober({ maxAdvertisementBytes: 16 * 1024 });
      const error = await rejectionOf(capped.listRemoteRefs({ url: servers[protocol].url('many'), deadlineMs: 30_000 }), GitError);
      expect(error).toMatchObject({ code: GitErrorCode.TOO_LARGE, transient: false });
      // A v0 advertisement carries the refs, so the preflight refuses them; a v2 one does not, so our read of git's output does.
      expect(error.message).toMatch(
        protocol === 'v0' ? /ref advertisement of .* is larger than 16384 bytes/ : /take more than 16384 bytes/,
      );
      // The same cap lets a repository with few refs through: the count is what was refused.
      expect((await capped.listRemoteRefs({ url: servers[protocol].url('multi'), deadlineMs: 30_000 })).refs.length).toBeGreaterThan(3);
    });
  });

  describe('redirects are followed only after the same vetting as for clones', () => {
    it('follows a vetted redirect, and reports where the refs came from', async () => {
      const server = servers['client-choice'];
      const result = await sut().listRemoteRefs({ url: server.redirect('moved', server.url('odd')), deadlineMs: 30_000 });
      expect(result.fetchedUrl).toBe(server.url('odd'));
      expect(result.refsHash).toBe((await sut().listRemoteRefs({ url: server.url('odd'), deadlineMs: 30_000 })).refsHash);
    });

    it.each<[string, (allowed: GitHttpServerHandle, blocked: GitHttpServerHandle) => string]>([
      ['a host the policy blocks', (allowed, blocked) => allowed.redirect('to-blocked', blocked.url('multi'))],
      ['something that is not a git endpoint', (allowed, blocked) => allowed.redirect('to-page', `${blocked.baseUrl}/login?next=`, 302)],
      ['itself, endlessly', (allowed) => allowed.redirect('loop', `${allowed.baseUrl}/redirect/loop`)],
    ])('refuses a redirect to %s as REDIRECT_BLOCKED, without contacting it', async (_what, redirectUrl) => {
      const allowed = await startGitHttpServer({ root, host: '127.0.0.2', port: 0 });
      const blocked = await startGitHttpServer({ root, host: '127.0.0.3', port: allowed.port });
      try {
        const strict = prober({ policy: new UrlPolicy({ allowedHosts: ['127.0.0.2'] }) });
        const error = await rejectionOf(strict.listRemoteRefs({ url: redirectUrl(allowed, blocked), deadlineMs: 30_000 }), GitError);
        expect(error).toMatchObject({ code: GitErrorCode.REDIRECT_BLOCKED, transient: false });
        expect(blocked.requests).toBe(0);
      } finally {
        await allowed.stop();
        await blocked.stop();
      }
    });
  });

  describe('hostile servers', () => {
    it.each<[string, HostileBehaviour]>([
      ['accepts the connection and never answers', { kind: 'silent' }],
      ['answers the advertisement, then never answers git', { kind: 'stall-after-advertisement' }],
    ])('a server that %s ends TIMED_OUT at the deadline', async (_what, behaviour) => {
      const server = await hostile(behaviour);
      const deadlineMs = 2000;
      const startedAt = Date.now();
      const error = await rejectionOf(sut().listRemoteRefs({ url: server.url('multi'), deadlineMs }), GitError);
      const elapsed = Date.now() - startedAt;
      expect(error).toMatchObject({ code: GitErrorCode.TIMED_OUT, transient: false });
      expect(elapsed).toBeGreaterThanOrEqual(deadlineMs - 50);
      // Slack for a loaded machine (CI beside other stacks); a missed deadline would hang instead.
      expect(elapsed).toBeLessThan(deadlineMs + 5000);
      expect(server.requests).toBeGreaterThan(0);
    });

    it.each<[string, HostileBehaviour, RegExp]>([
      ['as the advertisement the preflight reads', { kind: 'endless-refs', where: 'info-refs' }, /ref advertisement .* is larger than/],
      ['in the v2 ls-refs answer only git sees', { kind: 'endless-refs', where: 'ls-refs' }, /needed more than 201326592 bytes of memory/],
      [
        'in the v0 advertisement git gets after a truthful one for the preflight',
        { kind: 'endless-refs', where: 'later-info-refs' },
        /needed more than 201326592 bytes of memory/,
      ],
    ])('endless refs %s fail TOO_LARGE quickly, stopped by the cap that applies', async (_what, behaviour, why) => {
      const server = await hostile(behaviour);
      const startedAt = Date.now();
      const capped = prober({ maxAdvertisementBytes: 8 * MiB, maxMemoryBytes: 192 * MiB });
      const error = await rejectionOf(capped.listRemoteRefs({ url: server.url('multi'), deadlineMs: 60_000 }), GitError);
      expect(error).toMatchObject({ code: GitErrorCode.TOO_LARGE, transient: false });
      expect(error.message).toMatch(why);
      expect(Date.now() - startedAt).toBeLessThan(30_000);
      expect(server.bytesStreamed).toBeGreaterThan(8 * MiB);
    });

    it('the honest variant of the hostile server is probed fine (the attacks are the only fault)', async () => {
      const server = await hostile({ kind: 'honest' });
      expect((await sut().listRemoteRefs({ url: server.url('multi'), deadlineMs: 30_000 })).refs.length).toBeGreaterThan(3);
    });
  });
});

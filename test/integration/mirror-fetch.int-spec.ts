import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GitError, GitErrorCode, SafeCloner, UrlPolicy, verifyMirror, type SafeClonerOptions } from '@archiver/git';
import {
  createFixtureRepos,
  fixtureBytes,
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
const PROTOCOLS = ['v0', 'client-choice'] as const;

const refsOf = (gitDir: string) => fixtureGit(['for-each-ref', '--format=%(objectname) %(refname)'], gitDir);
const headOf = (gitDir: string) =>
  fixtureGit(['symbolic-ref', '-q', 'HEAD'], gitDir).catch(() => fixtureGit(['rev-parse', 'HEAD'], gitDir));
/** Objects stored, loose or packed (a small clone over the v0 protocol may keep them loose). */
async function storedObjects(gitDir: string): Promise<number> {
  const out = (await fixtureGit(['count-objects', '-v'], gitDir)).toString('utf8');
  const field = (name: string) => Number(new RegExp(`^${name}: (\\d+)$`, 'm').exec(out)?.[1]);
  return field('count') + field('in-pack');
}

/**
 * Everything a mirror must follow, in one step: new commits, a new branch, a deleted branch, a
 * deleted tag, a force-push to unrelated history, a new annotated tag, and HEAD moved to
 * another branch. Returns how many objects the remote gained.
 */
async function moveEverything(gitDir: string, seed: number): Promise<number> {
  const repo = await CraftedRepository.init(gitDir);
  const oldTips = (await fixtureGit(['for-each-ref', '--format=%(objectname)'], gitDir)).toString('latin1').trim().split('\n');
  const main = (await repo.git(['rev-parse', 'refs/heads/main'])).toString('latin1').trim();
  const big = await repo.blob(fixtureBytes(256 * 1024, seed));
  const next = await repo.commit(await repo.tree([{ mode: '100644', name: `big-${seed}.bin`, sha: big }]), `visit ${seed}`, [main]);
  const unrelated = await repo.commit(await repo.tree([{ mode: '100644', name: 'other', sha: await repo.blob(`other ${seed}\n`) }]));
  const tag = await repo.tagObject(next, 'commit', `v-${seed}`, 1_700_000_000 + seed);
  await repo.updateRefs([
    { name: 'refs/heads/main', sha: next },
    { name: `refs/heads/new-${seed}`, sha: next },
    { name: 'refs/heads/release', sha: unrelated },
    { name: `refs/tags/v-${seed}`, sha: tag },
  ]);
  for (const gone of ['refs/heads/feature/x', 'refs/tags/v1.0']) await repo.git(['update-ref', '-d', gone]);
  await repo.setHead(`refs/heads/new-${seed}`);
  const added = await repo.git(['rev-list', '--objects', '--all', '--not', ...oldTips]);
  return added.toString('latin1').trim().split('\n').filter(Boolean).length;
}

// SafeCloner.fetchInto brings a mirror kept from an earlier visit up to the remote. It talks to
// a URL anyone may choose, so it must be exactly as guarded as the clone and the probe.
describe('SafeCloner.fetchInto against real git servers', () => {
  let base: string;
  let root: string;
  let seed = 0;
  const servers = {} as Record<(typeof PROTOCOLS)[number], GitHttpServerHandle>;
  const hostiles: HostileGitServerHandle[] = [];
  const cloner = (options: Partial<SafeClonerOptions> = {}): SafeCloner =>
    new SafeCloner({ policy: new UrlPolicy({ allowedHosts: LOOPBACK }), tempDir: path.join(base, 'tmp'), ...options });
  const sut = (): SafeCloner => cloner();

  /** A remote of its own (a copy of `multi`) and a mirror clone of it. */
  const remoteAndMirror = async (protocol: (typeof PROTOCOLS)[number] = 'client-choice') => {
    const name = `moving-${++seed}`;
    const remote = path.join(root, `${name}.git`);
    await fixtureGit(['clone', '--quiet', '--mirror', path.join(root, 'multi.git'), remote], root);
    const url = servers[protocol].url(name);
    const { gitDir } = await sut().clone({ url, dir: path.join(base, 'mirrors', name), deadlineMs: 30_000, maxBytes: 64 * MiB });
    return { remote, url, gitDir, server: servers[protocol] };
  };

  beforeAll(async () => {
    base = await mkdtemp(path.join(tmpdir(), 'archiver-fetch-int-'));
    root = (await createFixtureRepos(base)).root;
    for (const protocol of PROTOCOLS) servers[protocol] = await startGitHttpServer({ root, port: 0, protocol });
  });

  afterAll(async () => {
    for (const server of [...Object.values(servers), ...hostiles]) await server?.stop();
    if (base) await rm(base, { recursive: true, force: true });
  });

  describe.each(PROTOCOLS)('from a server speaking %s', (protocol) => {
    it('leaves the mirror with exactly the remote refs and HEAD after branches and tags moved, went and came', async () => {
      const { remote, url, gitDir } = await remoteAndMirror(protocol);
      await moveEverything(remote, seed);

      const result = await sut().fetchInto({ gitDir, url, deadlineMs: 30_000, maxBytes: 64 * MiB });

      expect(await refsOf(gitDir)).toEqual(await refsOf(remote));
      expect(await headOf(gitDir)).toEqual(await headOf(remote));
      await verifyMirror(gitDir);
      const listed = await sut().listRemoteRefs({ url, deadlineMs: 30_000 });
      expect(result.refs.map((r) => [r.nameBytes, r.sha])).toEqual(listed.refs.map((r) => [r.nameBytes, r.sha]));
      expect(result).toMatchObject({ gitDir, fetchedUrl: url, head: listed.head });
      expect(result.sizeBytes).toBeGreaterThan(0);
    });

    it('fetches the new objects only (a pack a fraction of the clone), and nothing when nothing moved', async () => {
      const { remote, url, gitDir, server } = await remoteAndMirror(protocol);
      const cloned = await storedObjects(gitDir);
      const added = await moveEverything(remote, seed);

      await sut().fetchInto({ gitDir, url, deadlineMs: 30_000, maxBytes: 64 * MiB });
      const fetched = (await storedObjects(gitDir)) - cloned;
      // index-pack may complete a thin pack with a few bases it already had; never the history.
      expect(fetched).toBeGreaterThanOrEqual(added);
      expect(fetched).toBeLessThan(added + cloned / 2);

      const before = server.requestLog.length;
      await sut().fetchInto({ gitDir, url, deadlineMs: 30_000, maxBytes: 64 * MiB });
      expect(await storedObjects(gitDir)).toBe(cloned + fetched);
      const packRequests = server.requestLog.slice(before).filter((r) => r.method === 'POST' && (r.command ?? 'fetch') === 'fetch');
      expect(packRequests).toEqual([]);
      expect(await refsOf(gitDir)).toEqual(await refsOf(remote));
    });
  });

  describe('the clone guard applies unchanged', () => {
    it('refuses a host the policy blocks, without contacting it, and leaves the mirror as it was', async () => {
      const { url, gitDir, server } = await remoteAndMirror();
      const before = server.requestLog.length;
      const refs = await refsOf(gitDir);
      const strict = cloner({ policy: new UrlPolicy({ allowedHosts: [] }) });

      const error = await rejectionOf(strict.fetchInto({ gitDir, url, deadlineMs: 30_000, maxBytes: 64 * MiB }), GitError);

      expect(error).toMatchObject({ code: GitErrorCode.BLOCKED_BY_POLICY, transient: false });
      expect(server.requestLog.length).toBe(before);
      expect(await refsOf(gitDir)).toEqual(refs);
    });

    it('refuses a redirect to a blocked host as REDIRECT_BLOCKED, without contacting it', async () => {
      const { gitDir } = await remoteAndMirror();
      const allowed = await startGitHttpServer({ root, host: '127.0.0.2', port: 0 });
      const blocked = await startGitHttpServer({ root, host: '127.0.0.3', port: allowed.port });
      try {
        const strict = cloner({ policy: new UrlPolicy({ allowedHosts: ['127.0.0.2'] }) });
        const url = allowed.redirect('to-blocked', blocked.url('multi'));
        const error = await rejectionOf(strict.fetchInto({ gitDir, url, deadlineMs: 30_000, maxBytes: 64 * MiB }), GitError);
        expect(error).toMatchObject({ code: GitErrorCode.REDIRECT_BLOCKED, transient: false });
        expect(blocked.requests).toBe(0);
      } finally {
        await allowed.stop();
        await blocked.stop();
      }
    });

    it('follows a vetted redirect and says where it fetched from', async () => {
      const { remote, url, gitDir, server } = await remoteAndMirror();
      await moveEverything(remote, seed);
      const moved = server.redirect(`moved-${seed}`, url);
      const result = await sut().fetchInto({ gitDir, url: moved, deadlineMs: 30_000, maxBytes: 64 * MiB });
      expect(result.fetchedUrl).toBe(url);
      expect(await refsOf(gitDir)).toEqual(await refsOf(remote));
    });

    it.each<[string, HostileBehaviour]>([
      ['accepts the connection and never answers', { kind: 'silent' }],
      ['answers the advertisement, then never answers git', { kind: 'stall-after-advertisement' }],
    ])('a server that %s ends TIMED_OUT at the deadline', async (_what, behaviour) => {
      const { gitDir } = await remoteAndMirror();
      const server = await startHostileGitServer({ behaviour, root });
      hostiles.push(server);
      const deadlineMs = 2000;
      const startedAt = Date.now();
      const error = await rejectionOf(sut().fetchInto({ gitDir, url: server.url('multi'), deadlineMs, maxBytes: 64 * MiB }), GitError);
      const elapsed = Date.now() - startedAt;
      expect(error).toMatchObject({ code: GitErrorCode.TIMED_OUT, transient: false });
      expect(elapsed).toBeGreaterThanOrEqual(deadlineMs - 50);
      // Slack for a loaded machine (CI beside other stacks); a missed deadline would hang instead.
      expect(elapsed).toBeLessThan(deadlineMs + 5000);
      expect(server.requests).toBeGreaterThan(0);
    });

    it('ends ABORTED when the caller aborts', async () => {
      const { gitDir } = await remoteAndMirror();
      const server = await startHostileGitServer({ behaviour: { kind: 'stall-after-advertisement' }, root });
      hostiles.push(server);
      const error = await rejectionOf(
        sut().fetchInto({ gitDir, url: server.url('multi'), deadlineMs: 30_000, maxBytes: 64 * MiB, signal: AbortSignal.timeout(500) }),
        GitError,
      );
      expect(error).toMatchObject({ code: GitErrorCode.ABORTED });
    });

    it('fails TOO_LARGE when the mirror would grow past the size cap', async () => {
      const { remote, url, gitDir } = await remoteAndMirror();
      await moveEverything(remote, seed);
      const error = await rejectionOf(sut().fetchInto({ gitDir, url, deadlineMs: 30_000, maxBytes: 64 * 1024 }), GitError);
      expect(error).toMatchObject({ code: GitErrorCode.TOO_LARGE, transient: false });
    });

    it.each<[string, GitErrorCode, (url: string) => string]>([
      ['a repository that does not exist', GitErrorCode.NOT_FOUND, (url) => url.replace(/moving-\d+\.git$/, 'nothing-here.git')],
      ['a URL with credentials', GitErrorCode.INVALID_URL, (url) => url.replace('http://', 'http://user:secret@')],
    ])('maps %s to %s like a clone', async (_what, code, urlOf) => {
      const { url, gitDir } = await remoteAndMirror();
      const error = await rejectionOf(sut().fetchInto({ gitDir, url: urlOf(url), deadlineMs: 30_000, maxBytes: 64 * MiB }), GitError);
      expect(error).toMatchObject({ code });
      expect(error.message).not.toContain('secret');
    });

    it('refuses a target that is not a repository as INVALID_ARGUMENT', async () => {
      const { url } = await remoteAndMirror();
      const error = await rejectionOf(
        sut().fetchInto({ gitDir: path.join(base, 'nowhere'), url, deadlineMs: 30_000, maxBytes: 64 * MiB }),
        GitError,
      );
      expect(error).toMatchObject({ code: GitErrorCode.INVALID_ARGUMENT });
    });
  });
});

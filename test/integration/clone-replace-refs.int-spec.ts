import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RepositoryReader, SafeCloner, UrlPolicy, type TreeEntry } from '@archiver/git';
import { fixtureGit, fixtureGitEnv, startGitHttpServer, type GitHttpServerHandle } from '@archiver/testing';

const git = async (args: string[], cwd: string): Promise<string> => (await fixtureGit(args, cwd)).toString('utf8').trim();

/** The truth about a commit's tree, read with replace refs and grafts both off. */
function sourceTree(gitDir: string, commit: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const env = { ...fixtureGitEnv(gitDir), GIT_NO_REPLACE_OBJECTS: '1', GIT_GRAFT_FILE: '/dev/null/none' };
    execFile('git', ['-c', 'core.useReplaceRefs=false', 'ls-tree', '-r', '-z', commit], { cwd: gitDir, env }, (error, stdout) =>
      error ? reject(error) : resolve(stdout),
    );
  });
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

// A repository that uses refs/replace/* to make its named commit and one of its blobs read as
// something else: what is stored must be exactly the named commit's tree and bytes, while the
// replace refs themselves are kept as refs (the bundle carries them, nothing is lost).
describe('replace refs and grafts never change what is read', () => {
  let base: string;
  let http: GitHttpServerHandle;
  let source: string;
  const named: { first: string; head: string; blob: string; evilBlob: string; evilCommit: string } = {
    first: '',
    head: '',
    blob: '',
    evilBlob: '',
    evilCommit: '',
  };
  let reader: RepositoryReader;
  let cloner: SafeCloner;

  beforeAll(async () => {
    base = await mkdtemp(path.join(tmpdir(), 'archiver-replace-int-'));
    const work = path.join(base, 'work');
    await mkdir(work, { recursive: true });
    await git(['init', '--quiet', '--initial-branch=main', work], work);
    await writeFile(path.join(work, 'a.txt'), 'the original a\n');
    await writeFile(path.join(work, 'b.txt'), 'b, first version\n');
    await git(['add', '--all'], work);
    await git(['commit', '--quiet', '-m', 'first'], work);
    named.first = await git(['rev-parse', 'HEAD'], work);
    await writeFile(path.join(work, 'b.txt'), 'b, second version\n');
    await git(['commit', '--quiet', '-am', 'second'], work);
    named.head = await git(['rev-parse', 'HEAD'], work);
    named.blob = await git(['rev-parse', 'HEAD:a.txt'], work);
    // The same history without any replace ref, for the grafts case.
    await git(['clone', '--quiet', '--mirror', work, path.join(base, 'repos', 'linear.git')], base);

    // A look-alike of the head commit with other content, and another blob, each put in place by a replace ref.
    await git(['checkout', '--quiet', '-b', 'scratch', named.first], work);
    await writeFile(path.join(work, 'b.txt'), 'b, as the replacement says\n');
    await writeFile(path.join(work, 'injected.txt'), 'only in the replacement\n');
    await git(['add', '--all'], work);
    await git(['commit', '--quiet', '-m', 'second'], work);
    named.evilCommit = await git(['rev-parse', 'HEAD'], work);
    await writeFile(path.join(base, 'evil-a.txt'), 'a, as the replacement says\n');
    named.evilBlob = await git(['hash-object', '-w', path.join(base, 'evil-a.txt')], work);
    await git(['checkout', '--quiet', 'main'], work);
    await git(['branch', '--quiet', '-D', 'scratch'], work);
    await git(['replace', named.head, named.evilCommit], work);
    await git(['replace', named.blob, named.evilBlob], work);

    source = path.join(base, 'repos', 'replaced.git');
    await git(['clone', '--quiet', '--mirror', work, source], base);
    http = await startGitHttpServer({ root: path.dirname(source), port: 0 });
    // The crafted repository works as intended: plain git reads the replacements.
    expect(await git(['cat-file', 'blob', named.blob], source)).toBe('a, as the replacement says');

    cloner = new SafeCloner({ policy: new UrlPolicy({ allowedHosts: ['127.0.0.0/8'] }) });
    const result = await cloner.clone({
      url: http.url('replaced'),
      dir: path.join(base, 'clone.git'),
      deadlineMs: 30_000,
      maxBytes: 1 << 26,
    });
    reader = new RepositoryReader(result.gitDir);
  });

  afterAll(async () => {
    await http?.stop();
    if (base) await rm(base, { recursive: true, force: true });
  });

  it("lists exactly the named commit's tree, with the git shas of its own objects", async () => {
    expect(await reader.headCommit()).toBe(named.head);
    const entries = await reader.listTree(named.head);
    const listed = entries.map((e: TreeEntry) => `${e.mode} blob ${e.sha}\t${e.path}\0`).join('');
    expect(listed).toBe(await sourceTree(source, named.head));
    expect(entries.map((e) => e.path).sort()).toEqual(['a.txt', 'b.txt']);
    expect(entries.find((e) => e.path === 'a.txt')?.sha).toBe(named.blob);
  });

  it('streams the bytes of the named blobs, not of their replacements', async () => {
    const entries = await reader.listTree(named.head);
    const contents = new Map<string, string>();
    await reader.streamBlobs(entries, async ({ entry, stream }) => void contents.set(entry.path, (await readAll(stream)).toString('utf8')));
    expect(Object.fromEntries(contents)).toEqual({ 'a.txt': 'the original a\n', 'b.txt': 'b, second version\n' });
  });

  it('keeps refs/replace/* as refs, so the bundle carries them', async () => {
    const refs = (await reader.refs()).map((r) => `${r.name} ${r.sha}`);
    expect(refs).toEqual(
      expect.arrayContaining([`refs/replace/${named.head} ${named.evilCommit}`, `refs/replace/${named.blob} ${named.evilBlob}`]),
    );
    const bundle = await reader.createBundle(path.join(base, 'replaced.bundle'));
    const heads = await git(['bundle', 'list-heads', bundle!.path], base);
    expect(heads).toContain(`${named.evilCommit} refs/replace/${named.head}`);
    expect(heads).toContain(`${named.head} refs/heads/main`);
  });

  it('ignores grafts: a grafts file in the repository does not cut history out of the bundle', async () => {
    const gitDir = path.join(base, 'linear-clone.git');
    await cloner.clone({ url: http.url('linear'), dir: gitDir, deadlineMs: 30_000, maxBytes: 1 << 26 });
    await mkdir(path.join(gitDir, 'info'), { recursive: true });
    await writeFile(path.join(gitDir, 'info', 'grafts'), `${named.head}\n`); // "the head has no parents"
    const linear = new RepositoryReader(gitDir);
    expect(await linear.listTree(named.head)).toHaveLength(2);
    const bundle = await linear.createBundle(path.join(base, 'grafted.bundle'));
    const restored = path.join(base, 'restored.git');
    await git(['clone', '--quiet', '--mirror', bundle!.path, restored], base);
    expect(await git(['rev-list', '--count', named.head], restored)).toBe('2');
    expect(await git(['cat-file', '-t', named.first], restored)).toBe('commit');
  });
});

// Upstream repositories the incremental phase changes between visits: a large base built once
// from the generated ones, copies of it (hard links, so a copy costs a second), commits written
// into a served bare repository the way a push would leave it, and `git bundle` of one change.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { env, run } from './common.mjs';
import { REPOS_ROOT } from './repos.mjs';

const gitEnv = {
  PATH: '/usr/local/bin:/usr/bin:/bin',
  HOME: env.state,
  LC_ALL: 'C',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'Bench Author',
  GIT_AUTHOR_EMAIL: 'bench@example.test',
  GIT_AUTHOR_DATE: '1700100000 +0000',
  GIT_COMMITTER_NAME: 'Bench Author',
  GIT_COMMITTER_EMAIL: 'bench@example.test',
  GIT_COMMITTER_DATE: '1700100000 +0000',
};
export const git = (args, cwd) => run('git', args, { cwd, env: gitEnv });
const text = async (args, cwd) => (await git(args, cwd)).toString().trim();

const BASE = 'incremental-base';
const BASE_VERSION = 'v1 history+files';

/**
 * The largest repository the bench generates in both directions: `history.git` (5,000 commits,
 * release branches, tags) merged with `files.git` (10,000 files), so HEAD has ~10,100 files and
 * the history is long, like a real project. Built once from the two by hard-linked clone, fetch
 * and one merge commit (their top-level trees share no name); kept between runs.
 */
export async function ensureLargeBase() {
  const dir = path.join(REPOS_ROOT, `${BASE}.git`);
  const stamp = path.join(dir, 'bench-version');
  if (existsSync(stamp) && (await readFile(stamp, 'utf8')) === BASE_VERSION) return dir;
  await rm(dir, { recursive: true, force: true });
  await git(['clone', '--bare', '--quiet', '--local', path.join(REPOS_ROOT, 'history.git'), dir], REPOS_ROOT);
  await git(['fetch', '--quiet', path.join(REPOS_ROOT, 'files.git'), 'main:refs/heads/files-import'], dir);
  const top = `${await text(['ls-tree', 'main'], dir)}\n${await text(['ls-tree', 'refs/heads/files-import'], dir)}\n`;
  const tree = await pipe(['mktree'], dir, top);
  const commit = await text(['commit-tree', tree, '-p', 'main', '-p', 'refs/heads/files-import', '-m', 'merge the file tree'], dir);
  await git(['update-ref', 'refs/heads/main', commit], dir);
  await git(['update-ref', '-d', 'refs/heads/files-import'], dir);
  await writeFile(stamp, BASE_VERSION);
  return dir;
}

async function pipe(args, cwd, input) {
  const child = spawn('git', args, { cwd, env: gitEnv, stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (c) => (out += c));
  const closed = once(child, 'close');
  child.stdin.end(input);
  const [code] = await closed;
  if (code !== 0) throw new Error(`git ${args.join(' ')} exited with ${code}`);
  return out.trim();
}

/** `name.git` under the served root: an exact copy of `from` (every ref), objects hard-linked. */
export async function copyRepository(from, name) {
  const dir = path.join(REPOS_ROOT, `${name}.git`);
  await rm(dir, { recursive: true, force: true });
  await git(['clone', '--mirror', '--quiet', '--local', from, dir], REPOS_ROOT);
  return dir;
}

/** Every ref's object id (annotated tags: the tag object), sorted: a state to compare restores with. */
export async function refsOf(dir) {
  return (await text(['for-each-ref', '--format=%(refname) %(objectname)'], dir)).split('\n').filter(Boolean).sort();
}

/**
 * A small change on main, as a push would leave the served repository: one existing file of
 * the history rewritten and one new file, in one commit (`git fast-import` onto the branch).
 * Returns the bytes of the two new blobs, i.e. the changed files a visit has to store.
 */
export async function commitChange(dir, n) {
  const edited = `src/module-${n % 10}/file-${(n * 10 + 3) % 100}.txt`;
  const previous = await git(['cat-file', 'blob', `main:${edited}`], dir);
  const files = [
    [edited, Buffer.concat([previous, Buffer.from(`incremental change ${n}\n`)])],
    [`changes/change-${String(n).padStart(3, '0')}.txt`, Buffer.from(`change ${n}: ${'x'.repeat(200 + n)}\n`)],
  ];
  const data = (b) => Buffer.concat([Buffer.from(`data ${b.length}\n`), b, Buffer.from('\n')]);
  const stream = Buffer.concat([
    Buffer.from(`commit refs/heads/main\ncommitter Bench Author <bench@example.test> ${1_700_200_000 + n} +0000\n`),
    data(Buffer.from(`incremental change ${n}\n`)),
    Buffer.from('from refs/heads/main^0\n'),
    ...files.flatMap(([file, bytes]) => [Buffer.from(`M 100644 inline ${file}\n`), data(bytes)]),
    Buffer.from('\n'),
  ]);
  await pipe(['fast-import', '--quiet'], dir, stream);
  return { files: files.map(([file]) => file), bytes: files.reduce((sum, [, b]) => sum + b.length, 0) };
}

/** Size of `git bundle create --all ^<tips>`: what git itself needs to carry one change. */
export async function bundleSince(dir, previousRefs, file) {
  const tips = [...new Set(previousRefs.map((line) => line.split(' ')[1]))].map((sha) => `^${sha}`);
  await git(['bundle', 'create', '--quiet', file, '--all', ...tips], dir);
  const { size } = await stat(file);
  await rm(file, { force: true });
  return size;
}

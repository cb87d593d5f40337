// Generates the bench repositories with `git fast-import` (seconds instead of minutes of
// `git commit`), once per generator version, under .local/state/bench/bench-repos/:
//   history.git  – a long history (HISTORY_COMMITS commits over 100 files, branches and tags)
//   files.git    – MANY_FILES small text files in one commit
//   binary.git   – one BINARY_MIB MiB incompressible file
//   tiny-NN.git  – TINY_REPOS repositories of three small files each
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { env, log, run } from './common.mjs';

export const HISTORY_COMMITS = 5000;
export const MANY_FILES = 10_000;
export const BINARY_MIB = 200;
export const TINY_REPOS = 32;
const VERSION = `v1 ${HISTORY_COMMITS} ${MANY_FILES} ${BINARY_MIB} ${TINY_REPOS}`;

export const REPOS_ROOT = path.join(env.state, 'bench-repos');
export const tinyNames = () => Array.from({ length: TINY_REPOS }, (_, i) => `tiny-${String(i + 1).padStart(2, '0')}`);

const gitEnv = {
  PATH: '/usr/local/bin:/usr/bin:/bin',
  HOME: REPOS_ROOT,
  LC_ALL: 'C',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
};
const git = (args, cwd) => run('git', args, { cwd, env: gitEnv });

/** Feeds a fast-import stream produced by `produce(write)` into a new bare repository. */
async function fastImport(name, produce) {
  const dir = path.join(REPOS_ROOT, `${name}.git`);
  await rm(dir, { recursive: true, force: true });
  await git(['init', '--quiet', '--bare', '--initial-branch=main', dir], REPOS_ROOT);
  const child = spawn('git', ['fast-import', '--quiet'], { cwd: dir, env: gitEnv, stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c) => (stderr += c));
  const exited = once(child, 'close');
  const write = async (chunk) => {
    if (!child.stdin.write(chunk)) await once(child.stdin, 'drain');
  };
  await produce(write);
  child.stdin.end();
  const [code] = await exited;
  if (code !== 0) throw new Error(`git fast-import for ${name} failed: ${stderr}`);
  return dir;
}

const who = (t) => `Bench Author <bench@example.test> ${1_700_000_000 + t} +0000`;
const data = (content) => {
  const body = Buffer.isBuffer(content) ? content : Buffer.from(content);
  return Buffer.concat([Buffer.from(`data ${body.length}\n`), body, Buffer.from('\n')]);
};

// Deterministic text so every run archives the same bytes.
function textOf(seed, length) {
  const words = ['archive', 'bucket', 'commit', 'object', 'stream', 'worker', 'queue', 'minio', 'tree', 'blob', 'pack', 'delta'];
  let x = seed * 2654435761 || 1;
  const parts = [];
  let size = 0;
  while (size < length) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    const word = words[x % words.length] + (x % 97);
    parts.push(word);
    size += word.length + 1;
  }
  return `${parts.join(' ').slice(0, length - 1)}\n`;
}

async function history() {
  return fastImport('history', async (write) => {
    for (let i = 1; i <= HISTORY_COMMITS; i++) {
      let chunk = `commit refs/heads/main\nmark :${i}\ncommitter ${who(i)}\n`;
      chunk += data(`change ${i}\n`).toString();
      if (i > 1) chunk += `from :${i - 1}\n`;
      for (const f of [i % 100, (i * 7) % 100]) {
        chunk += `M 100644 inline src/module-${Math.floor(f / 10)}/file-${f}.txt\n` + data(`${textOf(f, 1500)}revision ${i}\n`).toString();
      }
      await write(chunk);
      if (i % 1000 === 0) await write(`reset refs/heads/release-${i / 1000}\nfrom :${i}\n\n`);
      if (i % 500 === 0) await write(`tag v${i / 500}.0\nfrom :${i}\ntagger ${who(i)}\n${data(`release ${i / 500}.0`).toString()}`);
    }
  });
}

async function manyFiles() {
  return fastImport('files', async (write) => {
    await write(`commit refs/heads/main\nmark :1\ncommitter ${who(0)}\n${data('ten thousand small files\n').toString()}`);
    for (let i = 0; i < MANY_FILES; i++) {
      const file = `pkg-${String(Math.floor(i / 100)).padStart(3, '0')}/mod-${i % 10}/file-${String(i).padStart(5, '0')}.txt`;
      await write(`M 100644 inline ${file}\n${data(textOf(i + 1, 200 + ((i * 7919) % 3800))).toString()}`);
    }
    await write('\n');
  });
}

async function binary() {
  return fastImport('binary', async (write) => {
    const size = BINARY_MIB * 1024 * 1024;
    await write(`blob\nmark :1\ndata ${size}\n`);
    for (let left = size; left > 0; left -= 8 * 1024 * 1024) await write(randomBytes(Math.min(left, 8 * 1024 * 1024)));
    await write('\n');
    await write(`commit refs/heads/main\nmark :2\ncommitter ${who(0)}\n${data('one large binary\n').toString()}`);
    await write(`M 100644 :1 data/large.bin\nM 100644 inline README.md\n${data('# binary\n').toString()}\n`);
  });
}

async function tiny(name, n) {
  return fastImport(name, async (write) => {
    await write(`commit refs/heads/main\nmark :1\ncommitter ${who(n)}\n${data(`tiny ${n}\n`).toString()}`);
    await write(`M 100644 inline README.md\n${data(`# ${name}\n`).toString()}`);
    await write(`M 100644 inline src/index.js\n${data(`export const n = ${n};\n`).toString()}`);
    await write(`M 100755 inline bin/run.sh\n${data('#!/bin/sh\necho tiny\n').toString()}\n`);
  });
}

/** Makes sure the bench repositories exist (regenerated when the generator changes); returns their dirs. */
export async function ensureRepos() {
  const stamp = path.join(REPOS_ROOT, '.version');
  const names = ['history', 'files', 'binary', ...tinyNames()];
  const complete =
    existsSync(stamp) && (await readFile(stamp, 'utf8')) === VERSION && names.every((n) => existsSync(path.join(REPOS_ROOT, `${n}.git`)));
  if (!complete) {
    const started = Date.now();
    log('generating bench repositories (once)');
    await rm(REPOS_ROOT, { recursive: true, force: true });
    await mkdir(REPOS_ROOT, { recursive: true });
    await history();
    await manyFiles();
    await binary();
    for (const [i, name] of tinyNames().entries()) await tiny(name, i + 1);
    // fast-import packs are loose about deltas; a server would have repacked.
    for (const name of ['history', 'files']) await git(['repack', '-a', '-d', '-q'], path.join(REPOS_ROOT, `${name}.git`));
    await writeFile(stamp, VERSION);
    log(`generated in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  return Object.fromEntries(names.map((n) => [n, path.join(REPOS_ROOT, `${n}.git`)]));
}

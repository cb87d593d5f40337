import { ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { killProcessesUnder, SafeCloner, UrlPolicy } from '@archiver/git';
import { createFixtureRepos, freePort, startGitHttpServer, waitFor, type FixtureRepos, type GitHttpServerHandle } from '@archiver/testing';

const ROOT = path.resolve(__dirname, '../..');

/*
 * Runs libs/git in a plain Node process (no jest), the way a worker does, so the test can
 * SIGKILL it. TypeScript is transpiled on require; nothing else is stubbed.
 */
const CHILD_SCRIPT = `
const fs = require('node:fs');
const ts = require(${JSON.stringify(path.join(ROOT, 'node_modules/typescript'))});
require.extensions['.ts'] = (module, file) => {
  const { outputText } = ts.transpileModule(fs.readFileSync(file, 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  });
  module._compile(outputText, file);
};
// The libs import each other as @archiver/<lib> (tsconfig paths): resolve those to their sources.
const Module = require('node:module');
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  const lib = request.startsWith('@archiver/') ? request.slice('@archiver/'.length) : '';
  return resolveFilename.call(this, lib ? ${JSON.stringify(path.join(ROOT, 'libs'))} + '/' + lib + '/src/index.ts' : request, ...rest);
};
const lib = ${JSON.stringify(path.join(ROOT, 'libs/git/src'))};
const [mode, arg1, arg2, arg3] = process.argv.slice(1);
if (mode === 'clone') {
  const { SafeCloner } = require(lib + '/safe-clone.ts');
  const { UrlPolicy } = require(lib + '/url-policy.ts');
  const cloner = new SafeCloner({ policy: new UrlPolicy({ allowedHosts: ['127.0.0.0/8'] }) });
  cloner.clone({ url: arg1, dir: arg2, scratchDir: arg3, deadlineMs: 600000, maxBytes: 1 << 30 }).catch(() => undefined);
} else if (mode === 'probe') {
  const { SafeCloner } = require(lib + '/safe-clone.ts');
  const { UrlPolicy } = require(lib + '/url-policy.ts');
  const cloner = new SafeCloner({ policy: new UrlPolicy({ allowedHosts: ['127.0.0.0/8'] }) });
  cloner.listRemoteRefs({ url: arg1, scratchDir: arg2, deadlineMs: 600000 }).catch(() => undefined);
} else if (mode === 'reap') {
  const { killProcessesUnder } = require(lib + '/process-reaper.ts');
  killProcessesUnder(arg1).then((n) => process.stdout.write(String(n) + '\\n'));
} else {
  const { spawnGit } = require(lib + '/git-process.ts');
  const child = spawnGit(['daemon', '--listen=127.0.0.1', '--port=' + arg2, '--base-path=' + arg1, arg1], arg1);
  process.stdout.write(String(child.pid) + '\\n');
}
if (mode !== 'reap') setInterval(() => undefined, 1000);
`;

function startChild(...args: string[]): ChildProcess {
  return spawn(process.execPath, ['-e', CHILD_SCRIPT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Processes (any uid-visible) whose command line or working directory is inside `dir`; zombies count as gone. */
async function processesUnder(dir: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const [cmdline, cwd, stat] = await Promise.all([
      readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => ''),
      readlink(`/proc/${entry}/cwd`).catch(() => ''),
      readFile(`/proc/${entry}/stat`, 'utf8').catch(() => ''),
    ]);
    if (!stat || stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
    const named = cmdline.split('\0').some((arg) => arg.endsWith(dir) || arg.includes(`${dir}/`));
    if (named || cwd === dir || cwd.startsWith(`${dir}/`)) found.push(Number(entry));
  }
  return found;
}

async function alive(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return stat !== '' && !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
}

// The parent-death signal acts at once; the bound only has to outlast a saturated machine's
// scheduling (a CI run once needed more than 3 s there). Without the mechanism they live on.
const GONE_WITHIN_MS = 10_000;

async function allGone(pids: readonly number[], withinMs: number): Promise<void> {
  await waitFor(
    `processes ${pids.join(', ')} to end`,
    async () => {
      for (const pid of pids) if (await alive(pid)) return undefined;
      return true;
    },
    withinMs,
    50,
  );
}

// A worker that is SIGKILLed must not leave git running: the kernel's parent-death signal
// stops clones and local git commands, and the startup sweep reaps whatever still escaped.
describe('git processes die with their worker', () => {
  let base: string;
  let repos: FixtureRepos;
  let slowHttp: GitHttpServerHandle;
  const started: number[] = [];

  beforeAll(async () => {
    base = await mkdtemp(path.join(tmpdir(), 'archiver-lifetime-int-'));
    repos = await createFixtureRepos(base);
    // Every request waits 1.5 s: a clone needs several, so git is surely mid-clone when killed.
    slowHttp = await startGitHttpServer({ root: repos.root, port: 0, latencyMs: 1500 });
  });

  afterAll(async () => {
    for (const pid of started) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await slowHttp?.stop();
    if (base) await rm(base, { recursive: true, force: true });
  });

  it('a SIGKILLed process running a clone leaves no git of that clone alive within 10 s', async () => {
    const attempt = path.join(base, 'attempt-clone');
    const dir = path.join(attempt, 'repo.git');
    const child = startChild('clone', slowHttp.url('multi'), dir, attempt);
    started.push(child.pid as number);
    // git is running once a process names the target: `timeout ... git clone ... <dir>` and git itself.
    const clone = await waitFor(
      'git clone to start',
      async () => ((await processesUnder(dir)).length >= 2 ? processesUnder(dir) : undefined),
      20_000,
      50,
    );
    const home = (await readdir(attempt)).filter((name) => name.startsWith('archiver-git-home-'));
    expect(home).toHaveLength(1);

    child.kill('SIGKILL');
    await allGone(clone, GONE_WITHIN_MS);
    expect(await processesUnder(dir)).toEqual([]);
    // The HOME dir stays behind inside the attempt's dir, where the worker's sweep removes it.
    expect((await readdir(attempt)).filter((name) => name.startsWith('archiver-git-home-'))).toEqual(home);
  });

  it('a SIGKILLed process running a change probe leaves no git of that probe alive within 10 s', async () => {
    const attempt = path.join(base, 'attempt-probe');
    const child = startChild('probe', slowHttp.url('multi'), attempt);
    started.push(child.pid as number);
    // The probe names no directory, but runs in its HOME inside the attempt's dir: `timeout`, git ls-remote, git-remote-http.
    const probe = await waitFor(
      'git ls-remote to start',
      async () => {
        const pids = await processesUnder(attempt);
        const cmdlines = await Promise.all(pids.map((pid) => readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')));
        return pids.length >= 2 && cmdlines.some((c) => c.split('\0').includes('ls-remote')) ? pids : undefined;
      },
      20_000,
      50,
    );
    started.push(...probe);

    child.kill('SIGKILL');
    await allGone(probe, GONE_WITHIN_MS);
    expect(await processesUnder(attempt)).toEqual([]);
  });

  it('a SIGKILLed process running a local git command leaves no git alive within 10 s', async () => {
    // cat-file or ls-tree would end anyway once their pipes to the dead parent close; a long
    // command that needs neither (git daemon stands in for a big bundle or fsck) shows the signal.
    // A folder of its own: processes of the earlier tests' clones (the slow server's upload-packs
    // name repos.root) may still be finishing, and must not be taken for the daemon's.
    const daemonRoot = path.join(base, 'daemon-root');
    await mkdir(daemonRoot, { recursive: true });
    // git daemon takes port 0 to mean its default (9418): it gets a free one.
    const child = startChild('local', daemonRoot, String(await freePort()));
    started.push(child.pid as number);
    const gitPid = await new Promise<number>((resolve, reject) => {
      child.stdout?.once('data', (chunk: Buffer) => resolve(Number(chunk.toString('utf8').trim())));
      child.once('exit', () => reject(new Error('the child ended before starting git')));
    });
    started.push(gitPid);
    const running = async (): Promise<true | undefined> =>
      (await readFile(`/proc/${gitPid}/cmdline`, 'utf8').catch(() => '')).includes('daemon') ? true : undefined;
    await waitFor('git daemon to run', running, 5000, 20);
    // Under the launcher, `git daemon` runs its dashed helper as a child: that one must go too.
    const tree = await waitFor(
      'git-daemon to start',
      async () => {
        const pids = await processesUnder(daemonRoot);
        const cmdlines = await Promise.all(pids.map((pid) => readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')));
        return cmdlines.some((c) => c.includes('git-core/git-daemon')) ? pids : undefined;
      },
      5000,
      20,
    );
    started.push(...tree);
    child.kill('SIGKILL');
    await allGone([gitPid, ...tree], GONE_WITHIN_MS);
  });

  it("puts git's throw-away HOME inside the scratch dir a request names, and removes it after the clone", async () => {
    const http = await startGitHttpServer({ root: repos.root, port: 0 });
    try {
      const scratchDir = path.join(base, 'attempt-scratch');
      const cloner = new SafeCloner({ policy: new UrlPolicy({ allowedHosts: ['127.0.0.0/8'] }), tempDir: path.join(base, 'unused') });
      await cloner.clone({
        url: http.url('trunk'),
        dir: path.join(scratchDir, 'repo.git'),
        scratchDir,
        deadlineMs: 30_000,
        maxBytes: 1 << 26,
      });
      expect(await readdir(scratchDir)).toEqual(['repo.git']);
      await expect(readdir(path.join(base, 'unused'))).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      await http.stop();
    }
  });

  describe(killProcessesUnder.name, () => {
    it('reaps an orphaned clone inside the dir (its whole process group) and spares everything else', async () => {
      const leftovers = path.join(base, 'dead-worker');
      const sibling = `${leftovers}-sibling`;
      await mkdir(leftovers, { recursive: true });
      await mkdir(sibling, { recursive: true });
      // What a worker killed before its parent-death signal was armed leaves: `timeout` and
      // git, reparented to init once their shell exits. Plus bystanders that merely look alike.
      const orphanDir = path.join(leftovers, 'repo.git');
      const shell = spawn(
        'sh',
        ['-c', `timeout 300 git clone --mirror -- '${slowHttp.url('multi')}' '${orphanDir}' >/dev/null 2>&1 & echo $!`],
        { stdio: ['ignore', 'pipe', 'ignore'] },
      );
      const timeoutPid = await new Promise<number>((resolve) =>
        shell.stdout.once('data', (c: Buffer) => resolve(Number(c.toString().trim()))),
      );
      started.push(timeoutPid);
      const bystanders = [
        spawn('sleep', ['300'], { cwd: sibling, stdio: 'ignore' }),
        spawn('sleep', ['300'], { argv0: `${sibling}/sleep`, stdio: 'ignore' }),
      ];
      for (const b of bystanders) started.push(b.pid as number);
      const orphans = await waitFor(
        'the orphaned clone to run',
        async () => {
          const pids = await processesUnder(orphanDir);
          return pids.length >= 2 ? pids : undefined;
        },
        20_000,
        50,
      );

      const reaped = await sut(leftovers);

      expect(reaped).toBeGreaterThanOrEqual(orphans.length);
      await allGone(orphans, GONE_WITHIN_MS);
      expect(await processesUnder(leftovers)).toEqual([]);
      for (const b of bystanders) expect(await alive(b.pid as number)).toBe(true);
      expect(await alive(process.pid)).toBe(true);
      expect(await sut(leftovers)).toBe(0);
    });

    it('reaps a process whose working directory is inside the dir', async () => {
      const leftovers = path.join(base, 'dead-worker-cwd', 'attempt');
      await mkdir(leftovers, { recursive: true });
      const sleeper = spawn('sleep', ['300'], { cwd: leftovers, stdio: 'ignore' });
      started.push(sleeper.pid as number);
      await waitFor('sleep to run', async () => ((await processesUnder(leftovers)).length > 0 ? true : undefined), 5000, 20);
      expect(await sut(path.dirname(leftovers))).toBe(1);
      await allGone([sleeper.pid as number], GONE_WITHIN_MS);
    });

    it('never kills its own process or its ancestors, even when their command lines name the dir', async () => {
      const dir = path.join(base, 'named-by-caller');
      // A shell whose arguments name the dir runs a node process whose arguments name it too.
      const shell = spawn('sh', ['-c', '"$0" -e "$1" reap "$2"; echo shell-survived', process.execPath, CHILD_SCRIPT, dir], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      shell.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
      const code = await new Promise<number | null>((resolve) => shell.on('close', resolve));
      expect(code).toBe(0);
      expect(output.trim().split('\n')).toEqual(['0', 'shell-survived']);
    });

    const sut = killProcessesUnder;
  });
});

import { spawn } from 'node:child_process';
import { createConnection, createServer, AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { FIXTURE_SEARCH_PATH } from './fixture-git.command';
import type { GitServerHandle } from './git-http.server';

export interface GitDaemonOptions {
  /** Directory of bare repositories (`<name>.git`), exported read-only. */
  readonly root: string;
  /** 0 (default) picks a free port. */
  readonly port?: number;
  /** How long to wait for the daemon to accept connections. */
  readonly startTimeoutMs?: number;
}

/** `git daemon` on 127.0.0.1, for tests that check git:// is refused (or need a second server). */
export async function startGitDaemon(options: GitDaemonOptions): Promise<GitServerHandle> {
  // git daemon cannot report a port it picked, so find a free one first.
  const port = options.port || (await freeLoopbackPort());
  const daemon = spawn(
    'git',
    ['daemon', '--reuseaddr', `--base-path=${options.root}`, '--export-all', '--listen=127.0.0.1', `--port=${port}`, options.root],
    // Own process group: the daemon forks a child per connection, and stop() ends them all.
    {
      env: { PATH: FIXTURE_SEARCH_PATH, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' },
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
    },
  );
  let stderr = '';
  daemon.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-4096)));
  // Without a listener a failed spawn would crash the test runner instead of failing the start.
  let spawnError: Error | undefined;
  daemon.once('error', (error) => (spawnError = error));
  const exited = new Promise<void>((resolve) => daemon.once('exit', () => resolve()));
  const running = () => spawnError === undefined && daemon.exitCode === null && daemon.signalCode === null && daemon.pid !== undefined;
  // The whole group: the daemon's per-connection children outlive it otherwise.
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-daemon.pid!, signal);
    } catch {
      // ESRCH: the group is already gone.
    }
  };

  const stop = async (): Promise<void> => {
    if (!running()) return;
    signalGroup('SIGTERM');
    const timer = setTimeout(() => signalGroup('SIGKILL'), 2000);
    await exited;
    clearTimeout(timer);
  };

  const deadline = Date.now() + (options.startTimeoutMs ?? 10_000);
  for (let attempt = 0; Date.now() < deadline; attempt++) {
    if (!running()) throw new Error(`git daemon exited early: ${spawnError?.message ?? stderr.trim()}`);
    if (await canConnect(port)) {
      const baseUrl = `git://127.0.0.1:${port}`;
      return { baseUrl, port, url: (name) => `${baseUrl}/${name.endsWith('.git') ? name : `${name}.git`}`, stop };
    }
    await sleep(Math.min(25 * (attempt + 1), 200));
  }
  await stop();
  throw new Error(`git daemon did not listen on 127.0.0.1:${port} in time: ${stderr.trim()}`);
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function freeLoopbackPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

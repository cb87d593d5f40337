import { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { spawnUntilReady } from '../support/ready-process';

const ROOT = path.resolve(__dirname, '../../../..');

export type AppName = 'frontend' | 'injector' | 'worker';

export interface AppProcess {
  name: AppName;
  url: string;
  port: number;
  /** Its Prometheus listener (`<metricsUrl>/metrics`), on a free port of its own. */
  metricsUrl: string;
  child: ChildProcess;
  /** Everything the process printed (JSON lines), for assertions and failure messages. */
  output(): string;
  /** SIGTERM and wait for a graceful exit (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<number | null>;
  /** SIGKILL, as a crash would. */
  kill(): Promise<void>;
}

/** Ports this process handed out: the OS may offer a just-closed port again at once. */
const handedOut = new Set<number>();

/**
 * A loopback port nothing listens on, and not one handed out before in this process: an app's
 * HTTP and metrics ports, asked for one after the other, once came back equal (EADDRINUSE).
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await unusedPort();
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('the OS kept offering ports already handed out');
}

function unusedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * Runs one of the built apps (dist/, from `npm run build`) as a child process on a free
 * port with the test stack's environment plus `env` overrides, and waits until it answers
 * HTTP (any status: a test may start it with a dependency down on purpose).
 */
export async function startApp(name: AppName, env: Record<string, string | undefined> = {}, timeoutMs = 30_000): Promise<AppProcess> {
  return launchApp(name, await freePort(), env, timeoutMs);
}

/**
 * Runs a built app on `port` and waits until it answers HTTP. If it exits first or does not
 * answer in time, it is killed and awaited before this throws: a failed start leaves no process.
 */
export async function launchApp(
  name: AppName,
  port: number,
  env: Record<string, string | undefined>,
  timeoutMs: number,
): Promise<AppProcess> {
  const url = `http://127.0.0.1:${port}`;
  const metricsPort = env[`${name.toUpperCase()}_METRICS_PORT`] ?? String(await freePort());
  const app = await spawnUntilReady({
    name: `${name} (port ${port})`,
    command: process.execPath,
    args: ['--enable-source-maps', path.join(ROOT, 'dist/apps', name, 'apps', name, 'src/main.js')],
    cwd: ROOT,
    env: { ...process.env, [`${name.toUpperCase()}_PORT`]: String(port), [`${name.toUpperCase()}_METRICS_PORT`]: metricsPort, ...env },
    ready: async () => {
      const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(5000) });
      await response.body?.cancel();
      return true;
    },
    timeoutMs,
  });
  const metricsUrl = `http://127.0.0.1:${metricsPort}`;
  return { name, url, port, metricsUrl, child: app.child, output: app.output, stop: app.stop, kill: app.kill };
}

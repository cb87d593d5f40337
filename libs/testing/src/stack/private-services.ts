import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, waitFor } from './app-process';

const ROOT = path.resolve(__dirname, '../../../..');

export interface PrivateService {
  url: string;
  /** Stops the server as an outage would, and removes its data. */
  stop(): Promise<void>;
}

async function run(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  ready: () => Promise<boolean>,
  dir: string,
): Promise<ChildProcess> {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: 'ignore' });
  await waitFor(`${path.basename(command)} to start`, async () => ((await ready().catch(() => false)) ? true : undefined), 30_000);
  child.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return child;
}

function stopper(child: ChildProcess): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
}

/** A throwaway Redis on loopback, for tests that take a dependency down. */
export async function startPrivateRedis(): Promise<PrivateService> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'archiver-redis-'));
  const ping = async () => {
    const { Redis } = await import('ioredis');
    const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    try {
      await client.connect();
      return (await client.ping()) === 'PONG';
    } finally {
      client.disconnect();
    }
  };
  const child = await run(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'],
    {},
    ping,
    dir,
  );
  return { url: `redis://127.0.0.1:${port}`, stop: stopper(child) };
}

/** A throwaway MinIO (the project's own build in .local/bin) on loopback. */
export async function startPrivateMinio(accessKey: string, secretKey: string): Promise<PrivateService> {
  const [port, consolePort] = [await freePort(), await freePort()];
  const dir = mkdtempSync(path.join(os.tmpdir(), 'archiver-minio-'));
  const url = `http://127.0.0.1:${port}`;
  const ready = async () => (await fetch(`${url}/minio/health/ready`, { signal: AbortSignal.timeout(2000) })).ok;
  const child = await run(
    path.join(ROOT, '.local/bin/minio'),
    ['server', dir, '--address', `127.0.0.1:${port}`, '--console-address', `127.0.0.1:${consolePort}`, '--quiet'],
    { MINIO_ROOT_USER: accessKey, MINIO_ROOT_PASSWORD: secretKey },
    ready,
    dir,
  );
  return { url, stop: stopper(child) };
}

import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './app-process';
import { type ReadyProcess, spawnUntilReady } from '../support/ready-process';

const ROOT = path.resolve(__dirname, '../../../..');

export interface PrivateService {
  url: string;
  /** Stops the server as an outage would, and removes its data. */
  stop(): Promise<void>;
}

/** Runs a server on a data dir of its own; the dir goes when the server does, also after a failed start. */
async function startWithDataDir(
  name: string,
  prefix: string,
  start: (dir: string) => Omit<Parameters<typeof spawnUntilReady>[0], 'name'>,
): Promise<ReadyProcess> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  try {
    const server = await spawnUntilReady({ name, ...start(dir) });
    void server.exited.then(removeDir);
    return server;
  } catch (error) {
    removeDir();
    throw error;
  }
}

/** An outage: SIGKILL, no chance to shut down cleanly. */
const outage = (server: ReadyProcess) => () => server.kill();

/** A throwaway Redis on loopback, for tests that take a dependency down. */
export async function startPrivateRedis(): Promise<PrivateService> {
  const port = await freePort();
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
  const server = await startWithDataDir('private redis-server', 'archiver-redis-', (dir) => ({
    command: 'redis-server',
    args: ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'],
    env: process.env,
    ready: ping,
    timeoutMs: 30_000,
  }));
  return { url: `redis://127.0.0.1:${port}`, stop: outage(server) };
}

/** A throwaway MinIO (the project's own build in .local/bin) on loopback. */
export async function startPrivateMinio(accessKey: string, secretKey: string): Promise<PrivateService> {
  const [port, consolePort] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${port}`;
  const ready = async () => {
    const response = await fetch(`${url}/minio/health/ready`, { signal: AbortSignal.timeout(2000) });
    await response.body?.cancel();
    return response.ok;
  };
  const server = await startWithDataDir('private MinIO', 'archiver-minio-', (dir) => ({
    command: path.join(ROOT, '.local/bin/minio'),
    args: ['server', dir, '--address', `127.0.0.1:${port}`, '--console-address', `127.0.0.1:${consolePort}`, '--quiet'],
    env: { ...process.env, MINIO_ROOT_USER: accessKey, MINIO_ROOT_PASSWORD: secretKey },
    ready,
    timeoutMs: 30_000,
  }));
  return { url, stop: outage(server) };
}

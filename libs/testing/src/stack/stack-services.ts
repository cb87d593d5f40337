import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const ROOT = path.resolve(__dirname, '../../../..');
const run = promisify(execFile);

export type StackServiceName = 'postgres' | 'redis' | 'minio';

/**
 * Takes one of the test stack's real services down and brings it back with the project's own
 * script, as an outage would (and as an operator would recover). Only for tests that run
 * alone (--runInBand): every app of the stack sees the outage.
 */
export async function stopStackService(name: StackServiceName): Promise<void> {
  await run('bash', [path.join(ROOT, 'scripts/stack.sh'), 'stop', name], { cwd: ROOT, env: process.env });
}

/** Brings one service back after stopStackService (no realm sync, no migrations: only the service). */
export async function startStackService(name: StackServiceName): Promise<void> {
  await run('bash', [path.join(ROOT, 'scripts/stack.sh'), 'start-service', name], { cwd: ROOT, env: process.env });
}

export async function startStackServices(): Promise<void> {
  await run('bash', [path.join(ROOT, 'scripts/stack.sh'), 'start-services'], { cwd: ROOT, env: process.env, maxBuffer: 16 * 1024 * 1024 });
}

export interface ProcessInfo {
  pid: number;
  argv: string[];
}

/** Live processes whose command line mentions `marker` (e.g. a work dir's name). */
export async function processesMentioning(marker: string): Promise<ProcessInfo[]> {
  const found: ProcessInfo[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const raw = await readFile(`/proc/${entry}/cmdline`).catch(() => null);
    if (!raw || raw.length === 0) continue;
    const argv = raw.toString('utf8').split('\0').filter(Boolean);
    if (argv.some((arg) => arg.includes(marker))) found.push({ pid: Number(entry), argv });
  }
  return found.filter((p) => p.pid !== process.pid);
}

import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { ApiClient } from './api-client';

const run = promisify(execFile);

/** The machine's own git, stdout as text: restores are checked with the tools a person has. */
export async function gitText(args: string[], cwd?: string): Promise<string> {
  return (await run('git', args, { cwd, maxBuffer: 64 * 1024 * 1024 })).stdout;
}

/** The refs of a repository as "<sha> <name>" lines (only those under `patterns` when given), to compare exactly. */
export function refsOf(gitDir: string, ...patterns: string[]): Promise<string> {
  return gitText(['for-each-ref', '--format=%(objectname) %(refname)', ...patterns], gitDir);
}

async function apiJson<T>(api: ApiClient, route: string): Promise<T> {
  const answer = await api.call<T>('GET', route);
  if (answer.status !== 200) throw new Error(`GET ${route} answered ${answer.status}: ${answer.text}`);
  return answer.body;
}

/**
 * Restores a snapshot with nothing but the script the API hands out (curl + git, run by sh in
 * an empty directory) and fscks the result: proves a person can rebuild the repository from it.
 */
export async function restoreWithScript(
  api: ApiClient,
  archiveId: string,
  scratch: string,
): Promise<{ gitDir: string; bundles: { kind: string; url: string }[] }> {
  const plan = await apiJson<{ script: string; bundles: { kind: string; url: string }[] }>(api, `/api/archives/${archiveId}/restore`);
  const dir = await mkdtemp(path.join(scratch, 'script-'));
  await writeFile(path.join(dir, 'restore.sh'), plan.script);
  await run('sh', ['restore.sh', 'repo.git'], { cwd: dir });
  const gitDir = path.join(dir, 'repo.git');
  await gitText(['fsck', '--no-progress', '--connectivity-only'], gitDir);
  return { gitDir, bundles: plan.bundles };
}

/** Downloads the snapshot's single (consolidated) bundle through the API's link and clones it with plain git. */
export async function restoreFromDownload(api: ApiClient, archiveId: string, scratch: string): Promise<{ gitDir: string; bundle: Buffer }> {
  const link = await apiJson<{ url: string }>(api, `/api/archives/${archiveId}/download`);
  const fetched = await fetch(link.url, { signal: AbortSignal.timeout(30_000) });
  if (fetched.status !== 200) throw new Error(`downloading the bundle of ${archiveId} answered ${fetched.status}`);
  const bundle = Buffer.from(await fetched.arrayBuffer());
  const dir = await mkdtemp(path.join(scratch, 'download-'));
  await writeFile(path.join(dir, 'repo.bundle'), bundle);
  const gitDir = path.join(dir, 'restored.git');
  await gitText(['clone', '--quiet', '--mirror', path.join(dir, 'repo.bundle'), gitDir]);
  return { gitDir, bundle };
}

// The hand-written baseline: what a plain script does to archive a repository with the same
// tools — `git clone --mirror`, `git ls-tree` + `git cat-file --batch`, a bounded-parallel raw
// minio `putObject` loop, `git bundle create --all` — with none of the service's bookkeeping.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { env, require, run } from './common.mjs';

const gitEnv = {
  PATH: '/usr/local/bin:/usr/bin:/bin',
  HOME: env.state,
  LC_ALL: 'C',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
};
const git = (args, cwd) => run('git', args, { cwd, env: gitEnv });
export const SMALL_FILE_BYTES = 1024 * 1024;

export function minioClient() {
  const Minio = require('minio');
  const url = new URL(env.minio.endpoint);
  return new Minio.Client({
    endPoint: url.hostname,
    port: Number(url.port),
    useSSL: false,
    accessKey: env.minio.accessKey,
    secretKey: env.minio.secretKey,
    region: env.minio.region,
  });
}

/** `git ls-tree -r -z --long HEAD` of a bare repository: [{ path, sha, size }] (blobs only). */
export async function listFiles(gitDir) {
  const out = (await git(['ls-tree', '-r', '-z', '--long', '--full-tree', 'HEAD'], gitDir)).toString('utf8');
  return out
    .split('\0')
    .filter(Boolean)
    .map((line) => {
      const [meta, file] = line.split('\t');
      const [, type, sha, size] = meta.split(/ +/);
      return { type, path: file, sha, size: Number(size) };
    })
    .filter((e) => e.type === 'blob');
}

/**
 * Reads the given blobs through one `git cat-file --batch`, calling `onBlob(entry, buffer)`
 * in order. `onBlob` may return a promise to slow the reader down (backpressure).
 */
export async function readBlobs(gitDir, entries, onBlob) {
  const child = spawn('git', ['cat-file', '--batch'], { cwd: gitDir, env: gitEnv, stdio: ['pipe', 'pipe', 'inherit'] });
  const feeder = (async () => {
    for (const e of entries) if (!child.stdin.write(`${e.sha}\n`)) await once(child.stdin, 'drain');
    child.stdin.end();
  })();
  let pending = Buffer.alloc(0);
  let index = 0;
  for await (const chunk of child.stdout) {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    for (;;) {
      const nl = pending.indexOf(0x0a);
      if (nl < 0) break;
      const size = Number(pending.subarray(0, nl).toString('latin1').split(' ')[2]);
      if (pending.length < nl + 1 + size + 1) break;
      const body = Buffer.from(pending.subarray(nl + 1, nl + 1 + size));
      pending = pending.subarray(nl + 1 + size + 1);
      await onBlob(entries[index++], body);
    }
  }
  await feeder;
  if (index !== entries.length) throw new Error(`cat-file returned ${index} of ${entries.length} blobs`);
}

/** A bounded pool: run(task) waits while `limit` tasks are in flight; drain() waits for all. */
export function pool(limit) {
  const inFlight = new Set();
  let failure;
  return {
    async run(task) {
      while (inFlight.size >= limit) await Promise.race(inFlight);
      if (failure) throw failure;
      const p = task().then(
        () => inFlight.delete(p),
        (error) => {
          failure ??= error;
          inFlight.delete(p);
        },
      );
      inFlight.add(p);
    },
    async drain() {
      await Promise.all(inFlight);
      if (failure) throw failure;
    },
  };
}

/** Uploads the files of HEAD: small ones buffered through the pool, large ones streamed from git. */
export async function uploadTree(client, bucket, prefix, gitDir, concurrency) {
  const entries = await listFiles(gitDir);
  const small = entries.filter((e) => e.size < SMALL_FILE_BYTES);
  const large = entries.filter((e) => e.size >= SMALL_FILE_BYTES);
  const uploads = pool(concurrency);
  await readBlobs(gitDir, small, (e, body) => uploads.run(() => client.putObject(bucket, `${prefix}files/${e.path}`, body, body.length)));
  for (const e of large) {
    await uploads.run(async () => {
      const child = spawn('git', ['cat-file', 'blob', e.sha], { cwd: gitDir, env: gitEnv, stdio: ['ignore', 'pipe', 'inherit'] });
      await client.putObject(bucket, `${prefix}files/${e.path}`, child.stdout, e.size);
    });
  }
  await uploads.drain();
  return { files: entries.length, bytes: entries.reduce((s, e) => s + e.size, 0) };
}

/** One repository, start to finish, the way a shell script would do it. */
export async function archiveByHand(client, url, { bucket, workDir, uploadConcurrency }) {
  const dir = path.join(workDir, `${bucket}.git`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(workDir, { recursive: true });
  try {
    await git(['clone', '--mirror', '--quiet', '--', url, dir], workDir);
    if (!(await client.bucketExists(bucket))) await client.makeBucket(bucket, env.minio.region);
    const prefix = 'snapshots/by-hand/';
    const stats = await uploadTree(client, bucket, prefix, dir, uploadConcurrency);
    const bundle = path.join(workDir, `${bucket}.bundle`);
    await git(['bundle', 'create', '--quiet', bundle, '--all'], dir);
    const { size } = await stat(bundle);
    await client.putObject(bucket, `${prefix}repo.bundle`, createReadStream(bundle), size);
    await rm(bundle, { force: true });
    const manifest = Buffer.from(JSON.stringify({ url, ...stats }));
    await client.putObject(bucket, `${prefix}manifest.json`, manifest, manifest.length);
    return stats;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Removes a bucket and everything in it (bench buckets only). */
export async function removeBucket(client, bucket) {
  if (!(await client.bucketExists(bucket))) return;
  const names = [];
  for await (const item of client.listObjectsV2(bucket, '', true)) names.push(item.name);
  for (let i = 0; i < names.length; i += 1000) await client.removeObjects(bucket, names.slice(i, i + 1000));
  await client.removeBucket(bucket);
}

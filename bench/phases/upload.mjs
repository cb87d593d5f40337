// Upload: the worker's uploader in this process — SnapshotWriter.uploadFiles fed by
// RepositoryReader.blobs (the compiled libs from dist/, exactly as the worker runs them) over
// the 10,000-file repository — against a raw bounded-parallel minio putObject loop over the
// same files, already in memory (the most a client can get out of MinIO here). Both use
// UPLOAD_CONCURRENCY requests in flight. Rounds alternate; each side's best round counts
// (other work on a shared machine only ever slows a round down).
import path from 'node:path';
import { minioClient, pool, readBlobs, removeBucket } from '../lib/by-hand.mjs';
import { env, log, require, ROOT, round } from '../lib/common.mjs';

const ROUNDS = 2;

export async function upload(ctx) {
  const storage = require(path.join(ROOT, 'dist/apps/worker/libs/storage/src/index.js'));
  const git = require(path.join(ROOT, 'dist/apps/worker/libs/git/src/index.js'));
  const store = new storage.ObjectStoreRepository(env.minio);
  const client = minioClient();
  const bucket = `bench-upload-${Date.now()}`;
  const gitDir = ctx.repos.files;
  const reader = new git.RepositoryReader(gitDir);
  const entries = await reader.listTree(await reader.headCommit());
  const bytes = entries.reduce((sum, e) => sum + e.size, 0);

  const bodies = [];
  await readBlobs(gitDir, entries, (e, body) => void bodies.push({ key: e.path, body }));

  async function* sources() {
    for await (const { entry, size, stream } of reader.blobs(entries))
      yield { pathBytes: entry.pathBytes, size, mode: entry.mode, sha: entry.sha, stream };
  }
  const uploader = async (i) => {
    const writer = new storage.SnapshotWriter(store, { bucket, prefix: `snapshots/uploader-${i}/` });
    const started = performance.now();
    const files = await writer.uploadFiles(sources(), { concurrency: env.uploadConcurrency });
    if (files.length !== entries.length) throw new Error(`uploader stored ${files.length} of ${entries.length} files`);
    return (performance.now() - started) / 1000;
  };
  const raw = async (i) => {
    const puts = pool(env.uploadConcurrency);
    const started = performance.now();
    for (const { key, body } of bodies)
      await puts.run(() => client.putObject(bucket, `snapshots/raw-${i}/files/${key}`, body, body.length));
    await puts.drain();
    return (performance.now() - started) / 1000;
  };

  const times = { uploader: [], raw: [] };
  try {
    await store.ensureBucket(bucket);
    // uploader, raw, raw, uploader: drift in the machine's load hits both sides alike.
    for (let i = 0; i < ROUNDS; i++) {
      const order = i % 2 === 0 ? ['uploader', 'raw'] : ['raw', 'uploader'];
      for (const side of order) times[side].push(await (side === 'uploader' ? uploader(i) : raw(i)));
      log(`upload: round ${i + 1}: uploader ${times.uploader.at(-1).toFixed(2)} s, raw loop ${times.raw.at(-1).toFixed(2)} s`);
    }
  } finally {
    await removeBucket(client, bucket).catch((error) => log(`could not remove ${bucket}: ${error.message}`));
    store.close();
  }
  const up = Math.min(...times.uploader);
  const rawS = Math.min(...times.raw);
  const objectsPerS = entries.length / up;
  const baselineObjectsPerS = entries.length / rawS;
  return {
    result: {
      objectsPerS: round(objectsPerS, 0),
      mbPerS: round(bytes / 1e6 / up, 2),
      baselineObjectsPerS: round(baselineObjectsPerS, 0),
      ratio: round(objectsPerS / baselineObjectsPerS, 2),
    },
    details: {
      files: entries.length,
      mb: round(bytes / 1e6, 1),
      concurrency: env.uploadConcurrency,
      baselineMbPerS: round(bytes / 1e6 / rawS, 2),
      secondsUploader: times.uploader.map((t) => round(t, 2)),
      secondsRaw: times.raw.map((t) => round(t, 2)),
    },
  };
}

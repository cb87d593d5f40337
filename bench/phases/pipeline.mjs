// Pipeline: every bench repository submitted through REST at once; wall time from the first
// submit until the last archive is completed (max finished_at, so the poll interval does not
// count). Baseline: the same repositories archived by hand (bench/lib/by-hand.mjs) with as
// many in parallel as one worker runs (WORKER_CONCURRENCY) and the same upload parallelism.
// Two rounds of each, alternating; each side's best round counts (other work on a shared
// machine only ever slows a round down).
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { archiveByHand, minioClient, removeBucket } from '../lib/by-hand.mjs';
import { deleteArchives, env, log, mapLimit, round, startApp, submit, waitFinished } from '../lib/common.mjs';
import { tinyNames } from '../lib/repos.mjs';

export const pipelineOrder = () => ['history', 'files', 'binary', ...tinyNames()];

/** Submits `names` and waits; returns seconds from the first submit to the last finished_at, and the rows. */
export async function archiveThroughApi(ctx, names, { timeoutMs = 600_000 } = {}) {
  const started = Date.now();
  const ids = [];
  for (const name of names) ids.push((await submit(ctx.frontend.url, ctx.git.url(name))).id);
  const rows = await waitFinished(ids, { timeoutMs });
  const failed = rows.filter((r) => r.status !== 'completed');
  if (failed.length)
    throw new Error(`${failed.length} archive(s) failed: ${failed.map((r) => `${r.url}: ${r.error_code} ${r.error}`).join('; ')}`);
  const end = Math.max(...rows.map((r) => r.finished_at.getTime()));
  return { ids, rows, seconds: (end - started) / 1000 };
}

/** Stage times of one archive row, for the details file. */
export function stages(row) {
  const t = (d) => d.getTime();
  return {
    url: row.url.replace(/^http:\/\/127\.0\.0\.1:\d+\//, ''),
    waitS: round((t(row.started_at) - t(row.created_at)) / 1000, 2),
    runS: round((t(row.finished_at) - t(row.started_at)) / 1000, 2),
    files: row.file_count,
    mb: round(Number(row.byte_count) / 1e6, 1),
  };
}

const ROUNDS = 2;

async function throughApi(ctx, names, workerArgs) {
  const worker = await startApp('worker', {}, { nodeArgs: workerArgs });
  let api;
  try {
    api = await archiveThroughApi(ctx, names);
  } finally {
    await worker.stop();
  }
  await deleteArchives(ctx.frontend.url, api.ids);
  return { seconds: api.seconds, archives: api.rows.map(stages).filter((s) => !s.url.startsWith('tiny')) };
}

async function byHand(ctx, names) {
  const client = minioClient();
  const workDir = path.join(env.state, 'by-hand');
  const buckets = names.map((_, i) => `bench-by-hand-${Date.now()}-${i}`);
  const archives = [];
  await mkdir(workDir, { recursive: true });
  try {
    const started = Date.now();
    await mapLimit(names, env.workerConcurrency, async (name, i) => {
      const t = Date.now();
      await archiveByHand(client, ctx.git.url(name), { bucket: buckets[i], workDir, uploadConcurrency: env.uploadConcurrency });
      if (!name.startsWith('tiny')) archives.push({ url: `${name}.git`, runS: round((Date.now() - t) / 1000, 2) });
    });
    return { seconds: (Date.now() - started) / 1000, archives };
  } finally {
    for (const bucket of buckets) await removeBucket(client, bucket).catch((error) => log(`could not remove ${bucket}: ${error.message}`));
    await rm(workDir, { recursive: true, force: true });
  }
}

export async function pipeline(ctx, { workerArgs = [] } = {}) {
  const names = pipelineOrder();
  const runs = { api: [], byHand: [] };
  log(`pipeline: ${names.length} repositories, 1 worker (WORKER_CONCURRENCY=${env.workerConcurrency}) vs by hand, ${ROUNDS} rounds`);
  // api, by hand, by hand, api: drift in the machine's load hits both sides alike.
  for (let i = 0; i < ROUNDS; i++) {
    const order = i % 2 === 0 ? ['api', 'byHand'] : ['byHand', 'api'];
    for (const side of order) {
      runs[side].push(side === 'api' ? await throughApi(ctx, names, i === 0 ? workerArgs : []) : await byHand(ctx, names));
      log(`pipeline: round ${i + 1}, ${side === 'api' ? 'through the API' : 'by hand'}: ${runs[side].at(-1).seconds.toFixed(1)} s`);
    }
  }
  const seconds = Math.min(...runs.api.map((r) => r.seconds));
  const baselineSeconds = Math.min(...runs.byHand.map((r) => r.seconds));
  return {
    result: { seconds: round(seconds, 2), baselineSeconds: round(baselineSeconds, 2), ratio: round(seconds / baselineSeconds, 2) },
    details: {
      repositories: names.length,
      workerConcurrency: env.workerConcurrency,
      uploadConcurrency: env.uploadConcurrency,
      rounds: { api: runs.api.map((r) => round(r.seconds, 2)), byHand: runs.byHand.map((r) => round(r.seconds, 2)) },
      // The large repositories' own run times (started → finished), first round.
      archives: runs.api[0].archives,
      byHand: runs.byHand[0].archives,
    },
  };
}

// Scale: archives/s of 1 vs 2 worker processes on the tiny repositories. The `archive` queue
// is paused while the workers start and every archive is submitted and injected, so the
// measured span — resume until the last finished_at — holds only the workers' work, not
// process start-up or the API. Rounds run 1, 2, 2, 1 workers so drift hits both sides alike; each side's best
// round counts (other work on a shared machine only ever slows a round down).
import { deleteArchives, env, log, machineCpu, queue, round, startApp, submit, waitFinished } from '../lib/common.mjs';
import { tinyNames } from '../lib/repos.mjs';

async function measureRound(ctx, workers) {
  const archive = queue('archive');
  await archive.pause();
  const procs = [];
  let ids = [];
  try {
    for (let i = 0; i < workers; i++) procs.push(await startApp('worker'));
    for (const name of tinyNames()) ids.push((await submit(ctx.frontend.url, ctx.git.url(name))).id);
    await waitFinished(ids, { statuses: ['queued'], intervalMs: 50, timeoutMs: 60_000 });
    const started = Date.now();
    const cpu = machineCpu();
    await archive.resume();
    const rows = await waitFinished(ids, { intervalMs: 50 });
    const busy = cpu.busy();
    const failed = rows.filter((r) => r.status !== 'completed');
    if (failed.length) throw new Error(`scale: ${failed.length} archive(s) failed: ${failed[0].error_code} ${failed[0].error}`);
    const end = Math.max(...rows.map((r) => r.finished_at.getTime()));
    return { perS: ids.length / ((end - started) / 1000), busy };
  } finally {
    await archive.resume();
    await Promise.all(procs.map((p) => p.stop()));
    await deleteArchives(ctx.frontend.url, ids);
  }
}

export async function scale(ctx) {
  const perS = { 1: [], 2: [] };
  const busy = { 1: [], 2: [] };
  for (const workers of [1, 2, 2, 1]) {
    const measured = await measureRound(ctx, workers);
    perS[workers].push(measured.perS);
    busy[workers].push(measured.busy);
    log(`scale: ${workers} worker(s): ${measured.perS.toFixed(2)} archives/s, machine CPU ${(100 * measured.busy).toFixed(0)}% busy`);
  }
  // Machine CPU of the round that counted for each side.
  const busyOfBest = (n) => busy[n][perS[n].indexOf(Math.max(...perS[n]))];
  const one = Math.max(...perS[1]);
  const two = Math.max(...perS[2]);
  return {
    result: { oneWorkerPerS: round(one, 2), twoWorkersPerS: round(two, 2), ratio: round(two / one, 2) },
    details: {
      repositories: tinyNames().length,
      workerConcurrency: env.workerConcurrency,
      rounds: { 1: perS[1].map((x) => round(x, 2)), 2: perS[2].map((x) => round(x, 2)) },
      // Share of both cores in use while the workers ran: near 100% means no CPU was left to scale into.
      machineBusyPct: { 1: round(100 * busyOfBest(1), 0), 2: round(100 * busyOfBest(2), 0) },
    },
  };
}

// The benchmarks of `make bench` (run through bench/run.sh, which starts and stops the
// isolated bench stack). `node bench/main.mjs [phase...]` runs some phases only (ingest,
// pipeline, memory, scale, revisit, incremental, upload); results go to bench/results/ and the table to stdout and
// bench/README.md. Every load is bounded by a duration or a count; all traffic is loopback.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { closeClients, env, log, require, ROOT, startApp, stopAllApps } from './lib/common.mjs';
import { ensureRepos, REPOS_ROOT } from './lib/repos.mjs';
import { formatCapacity, formatTable, targets } from './lib/report.mjs';
import { incremental } from './phases/incremental.mjs';
import { capacity } from './phases/capacity.mjs';
import { ingest } from './phases/ingest.mjs';
import { memory } from './phases/memory.mjs';
import { pipeline } from './phases/pipeline.mjs';
import { revisit } from './phases/revisit.mjs';
import { scale } from './phases/scale.mjs';
import { upload } from './phases/upload.mjs';

const ALL = ['ingest', 'pipeline', 'memory', 'scale', 'revisit', 'incremental', 'capacity', 'upload'];
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const phases = wanted.length ? wanted : ALL;
for (const p of phases) if (!ALL.includes(p)) throw new Error(`unknown phase ${p}; choose from ${ALL.join(', ')}`);
const profile = process.env.BENCH_PROFILE_DIR; // set to write a CPU profile of the pipeline's worker

let git;
async function shutdown(code) {
  await stopAllApps().catch(() => undefined);
  await git?.stop().catch(() => undefined);
  await closeClients().catch(() => undefined);
  process.exit(code);
}
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => void shutdown(130));

async function main() {
  const startedAt = Date.now();
  const results = { date: new Date().toISOString(), machine: { cores: os.cpus().length, memGiB: Math.round(os.totalmem() / 1024 ** 3) } };
  const details = {};
  const failures = [];
  const repos = await ensureRepos();
  const ctx = { repos };

  const attempt = async (name, fn) => {
    if (!phases.includes(name)) return;
    const t = Date.now();
    try {
      const { result, details: d } = await fn();
      results[name] = result;
      details[name] = d;
    } catch (error) {
      failures.push(`${name}: ${error.stack ?? error}`);
      log(`phase ${name} failed: ${error.stack ?? error}`);
      results[name] = null;
    }
    log(`phase ${name} took ${((Date.now() - t) / 1000).toFixed(0)} s`);
  };

  await attempt('ingest', ingest);
  if (phases.some((p) => ['pipeline', 'memory', 'scale', 'revisit', 'incremental', 'capacity'].includes(p))) {
    const { startGitHttpServer } = require(path.join(ROOT, 'dist/bench/libs/testing/src/git/index.js'));
    git = await startGitHttpServer({ root: REPOS_ROOT });
    ctx.git = git;
    ctx.frontend = await startApp('frontend');
    ctx.injector = await startApp('injector');
    await attempt('pipeline', () => pipeline(ctx, { workerArgs: profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : [] }));
    await attempt('memory', () => memory(ctx));
    await attempt('scale', () => scale(ctx));
    await attempt('revisit', () => revisit(ctx));
    await attempt('incremental', () => incremental(ctx));
    await attempt('capacity', () => capacity(ctx));
    await stopAllApps();
    await git.stop();
    git = undefined;
  }
  await attempt('upload', () => upload(ctx));
  await closeClients();

  const table = formatTable(results, details, env);
  console.log(`\n${table}\n`);
  const dir = path.join(ROOT, 'bench/results');
  await mkdir(dir, { recursive: true });
  const stamp = results.date.replace(/:/g, '-').replace(/\.\d+Z$/, 'Z');
  // The shape of issue 5, in its order.
  const ordered = Object.fromEntries(
    ['date', 'machine', 'ingest', 'pipeline', 'upload', 'memory', 'scale', 'revisit', 'incremental', 'capacity']
      .filter((k) => k in results)
      .map((k) => [k, results[k]]),
  );
  const json = `${JSON.stringify(ordered, null, 2)}\n`;
  await writeFile(path.join(dir, `${stamp}.json`), json);
  await writeFile(path.join(dir, `${stamp}.details.json`), `${JSON.stringify({ ...details, targets: targets(results) }, null, 2)}\n`);
  if (phases.length === ALL.length) {
    await writeFile(path.join(dir, 'latest.json'), json);
    await updateReadme(table, results.date);
  } else {
    log('partial run: latest.json and the README table are left as they were');
  }
  // The capacity section stands on its own (one phase's calibration and check), so any run of it updates it.
  if (results.capacity) await replaceSection('capacity', formatCapacity(results.capacity, results.date));
  log(`results in bench/results/${stamp}.json; whole bench took ${((Date.now() - startedAt) / 1000).toFixed(0)} s`);
  if (failures.length) {
    log(`${failures.length} phase(s) failed`);
    return 1;
  }
  return 0;
}

async function replaceSection(name, body) {
  const file = path.join(ROOT, 'bench/README.md');
  const text = await readFile(file, 'utf8').catch(() => null);
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  if (!text || !text.includes(start) || !text.includes(end)) return log(`bench/README.md has no ${name} markers; not updated`);
  await writeFile(file, `${text.slice(0, text.indexOf(start))}${start}\n${body}\n${text.slice(text.indexOf(end))}`);
}

async function updateReadme(table, date) {
  const file = path.join(ROOT, 'bench/README.md');
  const text = await readFile(file, 'utf8').catch(() => null);
  const start = '<!-- bench-table:start -->';
  const end = '<!-- bench-table:end -->';
  if (!text || !text.includes(start) || !text.includes(end)) return log('bench/README.md has no table markers; not updated');
  const block = `${start}\nLatest run: ${date}\n\n${table}\n${end}`;
  await writeFile(file, text.slice(0, text.indexOf(start)) + block + text.slice(text.indexOf(end) + end.length));
}

main().then(
  (code) => shutdown(code),
  (error) => {
    log(error.stack ?? String(error));
    return shutdown(1);
  },
);

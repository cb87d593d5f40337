// Revisit: a tracked repository re-visited while nothing changed upstream. The worker's change
// probe (ls-remote) should end the visit `unchanged` without fetching a pack, so the measure is
// the whole service path — POST /api/repositories/:id/visits → injector → worker → probe →
// manifest → completed — against what that path cannot avoid: a bare `git ls-remote` of the
// same URL on the same git server. Rounds alternate (visit, ls-remote, ls-remote, visit, …).
// Also measured: bytes the visit added to the bucket (its own prefix, and the bucket's total),
// and the git server's request log of each visit (info/refs and ls-refs only: no pack fetched).
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { minioClient } from '../lib/by-hand.mjs';
import { api, db, env, log, round, run, startApp } from '../lib/common.mjs';
import { REPOS_ROOT } from '../lib/repos.mjs';

const ROUNDS = 10;
// The API's cooldown between visits of one repository; its setting accepts 1 s at the least.
const COOLDOWN_SECONDS = 1;
const MANY_REFS = 500;
const gitEnv = {
  PATH: '/usr/local/bin:/usr/bin:/bin',
  HOME: env.state,
  LC_ALL: 'C',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
};
const git = (args, cwd) => run('git', args, { cwd, env: gitEnv });

/**
 * `history.git` with MANY_REFS more branches at older commits: the manifest of an unchanged
 * visit carries the complete refs, so its size grows with their number. A local clone
 * hard-links the objects, so this takes a second or two.
 */
async function ensureManyRefsRepo() {
  const name = `refs-${MANY_REFS}`;
  const dir = path.join(REPOS_ROOT, `${name}.git`);
  const count = async () => (await git(['for-each-ref', '--format=x'], dir)).toString().split('\n').filter(Boolean).length;
  const existing = await count().catch(() => 0);
  if (existing >= MANY_REFS) return { name, refs: existing };
  await rm(dir, { recursive: true, force: true });
  await git(['clone', '--bare', '--quiet', '--local', path.join(REPOS_ROOT, 'history.git'), dir], REPOS_ROOT);
  const shas = (await git(['rev-list', '--max-count=5000', 'main'], dir)).toString().trim().split('\n');
  const lines = Array.from(
    { length: MANY_REFS },
    (_, i) => `create refs/heads/topic/feature-${String(i).padStart(4, '0')} ${shas[(i * 9) % shas.length]}\n`,
  );
  await new Promise((resolve, reject) => {
    const child = spawn('git', ['update-ref', '--stdin'], { cwd: dir, env: gitEnv, stdio: ['pipe', 'ignore', 'inherit'] });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`git update-ref exited with ${code}`))));
    child.stdin.end(lines.join(''));
  });
  return { name, refs: await count() };
}

async function visitRow(id) {
  const { rows } = await db().query(
    `SELECT id, status, outcome, error_code, error, bucket, prefix, file_count, created_at, injected_at, started_at, finished_at, updated_at
     FROM archive WHERE id = $1::uuid`,
    [id],
  );
  return rows[0];
}

/** Polls Postgres (every 10 ms, bounded) until the archive is completed or failed; `seenAt`: when this process saw it. */
export async function waitSettled(id, timeoutMs = 300_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const row = await visitRow(id);
    if (row && ['completed', 'failed'].includes(row.status)) return { ...row, seenAt: Date.now() };
    if (Date.now() > deadline) throw new Error(`revisit: archive ${id} still ${row?.status} after ${timeoutMs} ms`);
    await sleep(10);
  }
}

/**
 * Stamps each request of the git server's log with its arrival time (the log itself has none),
 * so that the worker's run can be split at the requests it makes.
 */
function stampArrivals(requestLog) {
  const push = requestLog.push.bind(requestLog);
  requestLog.push = (...records) => push(...records.map((r) => Object.assign(r, { at: Date.now() })));
}

/** Bytes and objects under `prefix` of `bucket` (the whole bucket for ''). */
export async function storedBytes(client, bucket, prefix = '') {
  let bytes = 0;
  let objects = 0;
  for await (const item of client.listObjectsV2(bucket, prefix, true)) {
    bytes += item.size;
    objects++;
  }
  return { bytes, objects };
}

/** A request of a visit that fetches nothing: the ref advertisement (v0/v2) or a v2 ls-refs. */
const isRefListing = (r) => (r.method === 'GET' && r.path.endsWith('/info/refs')) || (r.method === 'POST' && r.command === 'ls-refs');
const describeRequest = (r) => `${r.method} ${r.path.replace(/^\/[^/]+\.git/, '')}${r.command ? ` (${r.command})` : ''}`;

/** Queues a visit; the cooldown counts from the previous visit's created_at, so wait that out first. */
export async function requestVisit(frontendUrl, repositoryId, previousCreatedAt) {
  const wait = previousCreatedAt.getTime() + COOLDOWN_SECONDS * 1000 + 50 - Date.now();
  if (wait > 0) await sleep(wait);
  for (let attempt = 1; ; attempt++) {
    const started = Date.now();
    const res = await api(frontendUrl, 'POST', `/api/repositories/${repositoryId}/visits`);
    if (res.status === 202) return { id: res.body.id, started };
    // Clocks of Postgres and this process can disagree by a few ms; one more cooldown, then give up.
    if (res.status !== 429 || attempt === 2) throw new Error(`POST visits: HTTP ${res.status} ${JSON.stringify(res.body)}`);
    await sleep(COOLDOWN_SECONDS * 1000);
  }
}

export async function track(frontendUrl, url) {
  // Pinned to 30 days so the scheduler never adds a visit of its own during the rounds.
  const res = await api(frontendUrl, 'POST', '/api/repositories', { url, intervalHours: 720 });
  if (res.status !== 201 && res.status !== 200)
    throw new Error(`POST /api/repositories ${url}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
  const repository = res.body;
  let visitId = repository.lastVisit?.archiveId;
  if (res.status === 200 || !visitId) visitId = (await requestVisit(frontendUrl, repository.id, new Date(0))).id;
  return { repositoryId: repository.id, visitId };
}

async function lsRemote(url) {
  const t = process.hrtime.bigint();
  const out = await git(['ls-remote', url], env.state);
  return { ms: Number(process.hrtime.bigint() - t) / 1e6, refs: out.toString().split('\n').filter(Boolean).length };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const ms = (a, b) => (a && b ? b.getTime() - a.getTime() : null);

async function measureRepository(ctx, frontend, client, name) {
  const url = ctx.git.url(name);
  const firstStarted = Date.now();
  const { repositoryId, visitId } = await track(frontend.url, url);
  const first = await waitSettled(visitId);
  if (first.status !== 'completed') throw new Error(`revisit: first visit of ${name} failed: ${first.error_code} ${first.error}`);
  const firstVisitS = (first.finished_at.getTime() - firstStarted) / 1000;
  log(`revisit: ${name}: first visit ${first.outcome} in ${firstVisitS.toFixed(1)} s`);

  // What the worker reads back on every unchanged visit: the previous snapshot's manifest.
  const manifestStat = await client.statObject(first.bucket, `${first.prefix}manifest.json`);
  const t = Date.now();
  for await (const chunk of await client.getObject(first.bucket, `${first.prefix}manifest.json`)) void chunk;
  const manifestGetMs = Date.now() - t;

  const bucketBefore = await storedBytes(client, first.bucket);
  const visits = [];
  const baseline = [];
  let previousCreatedAt = first.created_at;
  for (let i = 0; i < ROUNDS; i++) {
    const order = i % 2 === 0 ? ['visit', 'lsRemote'] : ['lsRemote', 'visit'];
    for (const side of order) {
      const logFrom = ctx.git.requestLog.length;
      if (side === 'lsRemote') {
        const t = Date.now();
        const b = await lsRemote(url);
        const requests = ctx.git.requestLog.slice(logFrom);
        baseline.push({
          ...b,
          requests: requests.map(describeRequest),
          startToFirstRequestMs: requests[0].at - t,
          firstToLastRequestMs: requests.at(-1).at - requests[0].at,
        });
        continue;
      }
      const { id, started } = await requestVisit(frontend.url, repositoryId, previousCreatedAt);
      const row = await waitSettled(id);
      if (row.status !== 'completed') throw new Error(`revisit: visit of ${name} failed: ${row.error_code} ${row.error}`);
      previousCreatedAt = row.created_at;
      const requests = ctx.git.requestLog.slice(logFrom).filter((r) => r.path.startsWith(`/${name}.git/`));
      const at = (i) => requests[i]?.at;
      visits.push({
        // Completed = the update that set status completed (updated_at = now() in that statement).
        ms: row.updated_at.getTime() - started,
        seenMs: row.seenAt - started,
        outcome: row.outcome,
        // Where the time went: the API, the injector, the wait for a worker, then the worker's run
        // cut at the git server's requests (the preflight GET, then git ls-remote's GET and POST).
        split: {
          requestToCreatedMs: row.created_at.getTime() - started,
          createdToInjectedMs: ms(row.created_at, row.injected_at),
          injectedToStartedMs: ms(row.injected_at, row.started_at),
          startedToFirstRequestMs: at(0) - row.started_at.getTime(),
          // The URL policy's redirect preflight (GET info/refs), then git ls-remote's own GET.
          preflightToLsRemoteMs: at(1) - at(0),
          lsRemoteRequestsMs: at(requests.length - 1) - at(1),
          lastRequestToFinishedMs: row.finished_at.getTime() - at(requests.length - 1),
          finishedToCompletedMs: ms(row.finished_at, row.updated_at),
        },
        added: await storedBytes(client, row.bucket, row.prefix),
        requests: requests.map(describeRequest),
        packFetched: requests.some((r) => !isRefListing(r)),
      });
    }
    const v = visits.at(-1);
    log(
      `revisit: ${name}: round ${i + 1}: visit ${v.outcome} ${v.ms} ms (${v.added.bytes} B), ls-remote ${baseline.at(-1).ms.toFixed(0)} ms`,
    );
  }
  const bucketAfter = await storedBytes(client, first.bucket);

  const visitMs = visits.map((v) => v.ms);
  const lsMs = baseline.map((b) => b.ms);
  const splitMedian = Object.fromEntries(Object.keys(visits[0].split).map((k) => [k, round(median(visits.map((v) => v.split[k])), 0)]));
  return {
    repositoryId,
    summary: {
      repository: `${name}.git`,
      refs: baseline[0].refs,
      files: first.file_count,
      bestMs: Math.min(...visitMs),
      medianMs: round(median(visitMs), 0),
      baselineBestMs: round(Math.min(...lsMs), 0),
      baselineMedianMs: round(median(lsMs), 0),
      ratio: round(Math.min(...visitMs) / Math.min(...lsMs), 2),
      medianRatio: round(median(visitMs) / median(lsMs), 2),
      maxBytesAdded: Math.max(...visits.map((v) => v.added.bytes)),
      allUnchanged: visits.every((v) => v.outcome === 'unchanged'),
      packFetched: visits.some((v) => v.packFetched),
    },
    details: {
      firstVisitS: round(firstVisitS, 1),
      previousManifest: { bytes: manifestStat.size, getMs: manifestGetMs },
      splitMedianMs: splitMedian,
      bucketBytesAddedPerVisit: round((bucketAfter.bytes - bucketBefore.bytes) / visits.length, 0),
      bucketObjectsAddedPerVisit: round((bucketAfter.objects - bucketBefore.objects) / visits.length, 2),
      visits,
      lsRemote: baseline.map((b) => ({ ...b, ms: round(b.ms, 1) })),
      lsRemoteSplitMedianMs: {
        startToFirstRequestMs: round(median(baseline.map((b) => b.startToFirstRequestMs)), 0),
        firstToLastRequestMs: round(median(baseline.map((b) => b.firstToLastRequestMs)), 0),
      },
      medianSeenMs: round(median(visits.map((v) => v.seenMs)), 0),
    },
  };
}

export async function revisit(ctx) {
  const manyRefs = await ensureManyRefsRepo();
  // The largest repository of the pipeline by objects (10,000 files: the biggest manifest to
  // read back), and one with many refs (the manifest of an unchanged visit lists them all).
  const names = ['files', manyRefs.name];
  log(`revisit: ${names.join(', ')}: ${ROUNDS} unchanged visits each vs git ls-remote, alternating`);
  const frontend = await startApp('frontend', { REPOSITORY_VISIT_COOLDOWN_SECONDS: String(COOLDOWN_SECONDS) });
  const worker = await startApp('worker');
  const client = minioClient();
  stampArrivals(ctx.git.requestLog);
  const measured = [];
  try {
    for (const name of names) measured.push(await measureRepository(ctx, frontend, client, name));
  } finally {
    for (const m of measured) {
      const res = await api(frontend.url, 'DELETE', `/api/repositories/${m.repositoryId}?purge=true`, undefined, env.admin);
      if (res.status !== 204) log(`revisit: could not purge repository ${m.repositoryId}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
    }
    await worker.stop();
    await frontend.stop();
  }
  const [main, refs] = measured.map((m) => m.summary);
  return {
    result: {
      bestMs: main.bestMs,
      medianMs: main.medianMs,
      baselineBestMs: main.baselineBestMs,
      baselineMedianMs: main.baselineMedianMs,
      ratio: main.ratio,
      bytesAdded: main.maxBytesAdded,
      packFetched: measured.some((m) => m.summary.packFetched),
      allUnchanged: measured.every((m) => m.summary.allUnchanged),
      manyRefs: {
        refs: refs.refs,
        bestMs: refs.bestMs,
        baselineBestMs: refs.baselineBestMs,
        ratio: refs.ratio,
        bytesAdded: refs.maxBytesAdded,
      },
    },
    details: {
      rounds: ROUNDS,
      cooldownSeconds: COOLDOWN_SECONDS,
      repositories: measured.map((m) => ({ ...m.summary, ...m.details })),
    },
  };
}

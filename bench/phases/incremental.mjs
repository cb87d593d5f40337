// Incremental storage: a large tracked repository (history.git + files.git: 5,001 commits,
// ~10,100 files) archived once, then CHANGES small commits, each followed by a visit. Against
// baselines of the same run:
//   1. the first changed visit's time vs a full archive of the same state (a fresh URL: no
//      snapshot, no cached mirror) — and again at change 10, the other order;
//   2. the bytes it added to the bucket vs `git bundle create --all ^<previous tips>` of the
//      change plus the changed files' bytes (latest/ reported apart: it is replaced, not added);
//   3. restoring the snapshot at chain depth 10 with its restore script vs the same script on
//      the full archive of that state (one bundle), alternating, best of each;
//   4. the bucket after all changed visits vs as many full copies (full bundle + files + listings + manifest).
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { minioClient } from '../lib/by-hand.mjs';
import { api, env, log, round, run, startApp } from '../lib/common.mjs';
import { bundleSince, commitChange, copyRepository, ensureLargeBase, refsOf } from '../lib/upstream.mjs';
import { requestVisit, track, waitSettled } from './revisit.mjs';

const CHANGES = 30;
const DEPTH = 10; // the changed visit whose snapshot is restored (its chain: the full bundle + 10 increments)
const COMPARED_AT = [1, DEPTH]; // changes after which a full archive of the same state is measured
const RESTORE_ROUNDS = 3;
const PURGE_ATTEMPTS = 5;
const COOLDOWN_SECONDS = 1;
const LATEST_TIMEOUT_MS = 120_000;

/** Bytes and objects of a bucket by kind: bundles, manifests, files (objects/), directory listings (trees/), latest/. */
async function bucketUsage(client, bucket) {
  const usage = {
    total: 0,
    objects: 0,
    fullBundles: 0,
    increments: 0,
    manifests: 0,
    files: 0,
    listings: 0,
    latest: 0,
    other: 0,
    fullBundleCount: 0,
  };
  for await (const item of client.listObjectsV2(bucket, '', true)) {
    usage.total += item.size;
    usage.objects++;
    const key = item.name;
    if (key.startsWith('latest/')) usage.latest += item.size;
    else if (key.startsWith('objects/')) usage.files += item.size;
    else if (key.startsWith('trees/')) usage.listings += item.size;
    else if (key.endsWith('/repo.bundle')) {
      usage.fullBundles += item.size;
      usage.fullBundleCount++;
    } else if (key.endsWith('/increment.bundle')) usage.increments += item.size;
    else if (key.endsWith('/manifest.json')) usage.manifests += item.size;
    else usage.other += item.size;
  }
  usage.stored = usage.total - usage.latest;
  return usage;
}

const diff = (after, before) => Object.fromEntries(Object.keys(after).map((k) => [k, after[k] - before[k]]));

/** The worker updates latest/ after recording the completion: wait until it shows `archiveId`. */
async function waitLatest(client, bucket, archiveId) {
  const deadline = Date.now() + LATEST_TIMEOUT_MS;
  for (;;) {
    try {
      let body = '';
      for await (const chunk of await client.getObject(bucket, 'latest/snapshot.json')) body += chunk;
      if (JSON.parse(body).archiveId === archiveId) return Date.now();
    } catch {
      // not written yet, or being replaced
    }
    if (Date.now() > deadline)
      throw new Error(`incremental: latest/ of ${bucket} does not show ${archiveId} after ${LATEST_TIMEOUT_MS} ms`);
    await sleep(50);
  }
}

/** A visit (or a first archive): request → the update that completed it; then latest/ settled. */
async function settle(client, id, started, label) {
  const row = await waitSettled(id);
  if (row.status !== 'completed') throw new Error(`incremental: ${label} failed: ${row.error_code} ${row.error}`);
  const latestAt = await waitLatest(client, row.bucket, id);
  return { row, ms: row.updated_at.getTime() - started, latestMs: latestAt - started };
}

/** A full archive of `dir`'s current state under a URL never archived before. */
async function fullArchive(ctx, frontend, client, dir, name, tracked) {
  await copyRepository(dir, name);
  const started = Date.now();
  const { repositoryId, visitId } = await track(frontend.url, ctx.git.url(name));
  tracked.push(repositoryId);
  const visit = await settle(client, visitId, started, `full archive of ${name}`);
  const usage = await bucketUsage(client, visit.row.bucket);
  return { id: visitId, ms: visit.ms, latestMs: visit.latestMs, usage, bundleBytes: usage.fullBundles };
}

/** Runs the restore script of archive `id` into a fresh directory; its time and whether the refs match. */
async function restore(frontend, id, expectedRefs, workDir) {
  const dir = path.join(workDir, `restore-${id}.git`);
  const script = path.join(workDir, `restore-${id}.sh`);
  await rm(dir, { recursive: true, force: true });
  const started = Date.now();
  const plan = await api(frontend.url, 'GET', `/api/archives/${id}/restore`);
  if (plan.status !== 200) throw new Error(`GET /api/archives/${id}/restore: HTTP ${plan.status} ${JSON.stringify(plan.body)}`);
  await writeFile(script, plan.body.script);
  await run('sh', [script, dir], { cwd: workDir });
  const ms = Date.now() - started;
  const restored = await refsOf(dir);
  await rm(dir, { recursive: true, force: true });
  const exact = restored.join('\n') === expectedRefs.join('\n');
  return { ms, bundles: plan.body.bundles.length, bundleBytes: plan.body.bundles.reduce((s, b) => s + b.size, 0), exact };
}

/**
 * Removes a tracked repository and its snapshots. Should the connection still drop while the
 * frontend goes on deleting (seen with its default timeouts), it is asked again, a bounded
 * number of times; a failure here is logged and never hides the figures.
 */
async function purge(frontend, id) {
  for (let attempt = 1; attempt <= PURGE_ATTEMPTS; attempt++) {
    try {
      const res = await api(frontend.url, 'DELETE', `/api/repositories/${id}?purge=true`, undefined, env.admin);
      if (res.status === 204 || res.status === 404) return;
      log(`incremental: purge of repository ${id}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
    } catch (error) {
      log(`incremental: purge of repository ${id}, attempt ${attempt}: ${error.cause?.code ?? error.message}`);
    }
  }
  log(`incremental: repository ${id} is left in the bench stack`);
}

export async function incremental(ctx) {
  const runId = Date.now().toString(36);
  const workDir = path.join(env.state, `incremental-${runId}`);
  await mkdir(workDir, { recursive: true });
  const base = await ensureLargeBase();
  const name = `incr-${runId}`;
  const upstream = await copyRepository(base, name);
  log(
    `incremental: ${name}: first visit, then ${CHANGES} changed visits; full archives of the same state after changes ${COMPARED_AT.join(', ')}`,
  );
  // The purge at the end deletes 31 snapshots one by one and sends nothing meanwhile: with the
  // default idle (15 s) and request (30 s) timeouts the frontend drops that connection.
  const frontend = await startApp('frontend', {
    REPOSITORY_VISIT_COOLDOWN_SECONDS: String(COOLDOWN_SECONDS),
    HTTP_IDLE_TIMEOUT_SECONDS: '600',
    HTTP_REQUEST_TIMEOUT_SECONDS: '600',
  });
  const worker = await startApp('worker');
  const client = minioClient();
  const tracked = [];
  const created = [upstream];
  try {
    const started = Date.now();
    const first = await track(frontend.url, ctx.git.url(name));
    tracked.push(first.repositoryId);
    const firstVisit = await settle(client, first.visitId, started, 'first visit');
    const bucket = firstVisit.row.bucket;
    log(`incremental: first visit ${(firstVisit.ms / 1000).toFixed(1)} s`);

    let previousCreatedAt = firstVisit.row.created_at;
    const visits = [];
    const full = {};
    const restoreAt = {};
    for (let n = 1; n <= CHANGES; n++) {
      const refsBefore = await refsOf(upstream);
      const change = await commitChange(upstream, n);
      const refsAfter = await refsOf(upstream);
      const compared = COMPARED_AT.includes(n);
      const gitBundleBytes = compared ? await bundleSince(upstream, refsBefore, path.join(workDir, 'change.bundle')) : null;
      // The full archive runs after the visit at change 1 and before it at DEPTH, so drift on a
      // shared machine does not favour one side.
      const measureFull = async () => {
        full[n] = await fullArchive(ctx, frontend, client, upstream, `${name}-full-${n}`, tracked);
        created.push(path.join(path.dirname(upstream), `${name}-full-${n}.git`));
        log(`incremental: full archive of the state after change ${n}: ${(full[n].ms / 1000).toFixed(1)} s`);
      };
      if (n === DEPTH) await measureFull();
      const before = compared ? await bucketUsage(client, bucket) : null;
      const { id, started: visitStarted } = await requestVisit(frontend.url, first.repositoryId, previousCreatedAt);
      const visit = await settle(client, id, visitStarted, `changed visit ${n}`);
      previousCreatedAt = visit.row.created_at;
      if (visit.row.outcome !== 'changed') throw new Error(`incremental: visit ${n} ended ${visit.row.outcome}, not changed`);
      const record = { n, id, ms: visit.ms, latestMs: visit.latestMs, changedFileBytes: change.bytes };
      if (compared) Object.assign(record, { gitBundleBytes, added: diff(await bucketUsage(client, bucket), before) });
      visits.push(record);
      if (n === DEPTH) restoreAt.refs = refsAfter;
      if (n === 1) await measureFull();
      log(
        `incremental: change ${n}: visit ${record.ms} ms (latest/ ${record.latestMs} ms)` +
          (record.added ? `, +${record.added.stored} B stored` : ''),
      );
      if (n === DEPTH) {
        const rounds = { chain: [], full: [] };
        for (let r = 0; r < RESTORE_ROUNDS; r++) {
          for (const side of r % 2 === 0 ? ['chain', 'full'] : ['full', 'chain']) {
            const target = side === 'chain' ? id : full[DEPTH].id;
            const result = await restore(frontend, target, restoreAt.refs, workDir);
            if (!result.exact) throw new Error(`incremental: the restore of ${side} (${target}) does not have the snapshot's refs`);
            rounds[side].push(result);
            log(`incremental: restore ${side}: ${result.ms} ms (${result.bundles} bundle(s), ${result.bundleBytes} B)`);
          }
        }
        restoreAt.rounds = rounds;
      }
    }
    const end = await bucketUsage(client, bucket);
    return summarize({ firstVisit, visits, full, restoreAt, end, base: await refsOf(base) });
  } finally {
    for (const id of tracked) await purge(frontend, id);
    await worker.stop();
    await frontend.stop();
    for (const dir of [...created, workDir]) await rm(dir, { recursive: true, force: true });
  }
}

function summarize({ firstVisit, visits, full, restoreAt, end, base }) {
  const [one, deep] = COMPARED_AT.map((n) => visits.find((v) => v.n === n));
  const best = (xs) => Math.min(...xs);
  const visitBestMs = best([one.ms, deep.ms]);
  const fullBestMs = best(COMPARED_AT.map((n) => full[n].ms));
  const fullCopy = full[DEPTH].usage;
  const fullCopyBytes = fullCopy.fullBundles + fullCopy.files + fullCopy.listings + fullCopy.manifests;
  const snapshots = visits.length + 1;
  const allowance = 2 * one.gitBundleBytes + one.changedFileBytes;
  const restoreChain = best(restoreAt.rounds.chain.map((r) => r.ms));
  const restoreFull = best(restoreAt.rounds.full.map((r) => r.ms));
  const sorted = visits.map((v) => v.ms).sort((a, b) => a - b);
  return {
    result: {
      changedVisitMs: one.ms,
      fullArchiveMs: full[1].ms,
      visitRatio: round(visitBestMs / fullBestMs, 3),
      bytesAdded: one.added.stored,
      gitBundleBytes: one.gitBundleBytes,
      changedFileBytes: one.changedFileBytes,
      bytesAllowance: allowance,
      bytesRatio: round(one.added.stored / allowance, 2),
      latestBytesRewritten: one.added.latest,
      restoreChainMs: restoreChain,
      restoreFullMs: restoreFull,
      restoreRatio: round(restoreChain / restoreFull, 2),
      restoreChainBundles: restoreAt.rounds.chain[0].bundles,
      snapshots,
      storedBytes: end.stored,
      fullCopiesBytes: snapshots * fullCopyBytes,
      storageRatio: round(end.stored / (snapshots * fullCopyBytes), 3),
    },
    details: {
      repository: { refs: base.length, note: 'history.git + files.git merged: 5,001 commits, ~10,100 files at HEAD' },
      firstVisitMs: firstVisit.ms,
      changes: CHANGES,
      visitTime: {
        pairs: COMPARED_AT.map((n) => ({ change: n, visitMs: visits[n - 1].ms, fullArchiveMs: full[n].ms })),
        medianOfAllChangedVisitsMs: sorted[Math.floor(sorted.length / 2)],
        maxOfAllChangedVisitsMs: sorted.at(-1),
      },
      bytesOfChange: COMPARED_AT.map((n) => ({ change: n, ...visits[n - 1] })),
      fullArchive: Object.fromEntries(COMPARED_AT.map((n) => [n, full[n]])),
      fullCopyBytes,
      restore: restoreAt.rounds,
      bucketAtEnd: end,
      visits: visits.map(({ n, id, ms, latestMs }) => ({ n, id, ms, latestMs })),
    },
  };
}

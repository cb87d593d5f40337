// The table printed by `make bench` (and copied into bench/README.md), and the issues' targets.

/** Each target of issues 5 and 11 with whether this run met it (null when the phase did not run). */
export function targets(r) {
  const check = (section, test) => (r[section] ? test(r[section]) : null);
  return {
    ingest: check('ingest', (i) => i.ratio >= 0.5 && i.p99Ms <= 50 && i.lost === 0 && i.errors === 0),
    ingestLimits: check('ingest', (i) => i.limitsCost === undefined || i.limitsCost <= 0.1),
    ingestVsHand: check('ingest', (i) => i.vsHand === undefined || (i.vsHand >= 0.7 && i.onP99Ms <= 50)),
    pipeline: check('pipeline', (p) => p.ratio <= 1.2),
    upload: check('upload', (u) => u.ratio >= 0.8),
    memory: check('memory', (m) => m.workerPeakRssMb <= 300),
    scale: check('scale', (s) => s.ratio >= 1.6),
    revisit: check('revisit', (v) => v.ratio <= 2 && v.bytesAdded < 10_000 && !v.packFetched && v.allUnchanged),
    incrementalVisit: check('incremental', (c) => c.visitRatio <= 0.15),
    incrementalBytes: check('incremental', (c) => c.bytesAdded <= c.bytesAllowance),
    incrementalRestore: check('incremental', (c) => c.restoreRatio <= 1.5),
  };
}

const met = (v) => (v === null ? 'not run' : v ? 'met' : '**not met**');
const n = (v, unit = '') => (v === null || v === undefined ? '–' : `${v}${unit}`);

export function formatTable(r, d, env) {
  const t = targets(r);
  const rows = [['figure', 'measured', 'same-run baseline', 'ratio', 'target', '']];
  const i = r.ingest;
  rows.push([
    'Ingest: `POST /api/archives` (20 conns, 15 s)',
    i
      ? `${i.rps} req/s, p50 ${i.p50Ms} ms, p99 ${i.p99Ms} ms, ${i.errors} errors, lost ${i.lost}` +
        (d.ingest ? ` (frontend CPU ${d.ingest.post.frontendCpuPct}%)` : '')
      : '–',
    i ? `${i.baselineRps} req/s \`GET /config.json\`` + (d.ingest ? ` (\`/health\`: ${d.ingest.health.rps} req/s)` : '') : '–',
    n(i?.ratio),
    '≥ 0.5, p99 ≤ 50 ms, lost 0',
    met(t.ingest),
  ]);
  if (i?.offRps !== undefined) {
    rows.push([
      'Ingest with rate limiter + metrics on, vs both off (best of 2 rounds each, 10 s)',
      `${i.onRps} req/s, p99 ${i.onP99Ms} ms`,
      `${i.offRps} req/s off`,
      `cost ${i.limitsCost}`,
      '≤ 0.1',
      met(t.ingestLimits),
    ]);
    rows.push([
      'Ingest vs a bare `node:http` handler doing the same I/O (`bench/lib/hand-ingest.mjs`)',
      `${i.onRps} req/s, p99 ${i.onP99Ms} ms${i.cpuUsPerRequest ? `; CPU ${i.cpuUsPerRequest.on} µs/request` : ''}`,
      `${i.handRps} req/s by hand${i.cpuUsPerRequest ? ` (CPU ${i.cpuUsPerRequest.hand} µs/request; \`GET /config.json\` ${i.cpuUsPerRequest.configJson})` : ''}`,
      n(i.vsHand),
      '≥ 0.7, p99 ≤ 50 ms',
      met(t.ingestVsHand),
    ]);
  }
  const p = r.pipeline;
  rows.push([
    'Pipeline: 3 large + 32 tiny repos, submit → all completed',
    p ? `${p.seconds} s` : '–',
    p ? `${p.baselineSeconds} s by hand` : '–',
    n(p?.ratio),
    '≤ 1.2',
    met(t.pipeline),
  ]);
  const u = r.upload;
  rows.push([
    'Upload: 10,000 files, uploader',
    u ? `${u.objectsPerS} objects/s, ${u.mbPerS} MB/s` : '–',
    u ? `${u.baselineObjectsPerS} objects/s raw putObject loop` : '–',
    n(u?.ratio),
    '≥ 0.8',
    met(t.upload),
  ]);
  const m = r.memory;
  const md = d.memory;
  rows.push([
    'Memory: worker peak RSS',
    m
      ? `${m.workerPeakRssMb} MB` +
        (md
          ? ` (200 MiB binary: ${md.binary200MiB.peakRssMb}, 10k files: ${md.files10k.peakRssMb}; idle ${md.binary200MiB.startRssMb})`
          : '')
      : '–',
    '–',
    '–',
    '≤ 300 MB',
    met(t.memory),
  ]);
  const s = r.scale;
  rows.push([
    `Scale: 32 tiny repos, WORKER_CONCURRENCY=${env.workerConcurrency}`,
    s
      ? `2 workers ${s.twoWorkersPerS} archives/s` +
        (d.scale ? ` (CPU ${d.scale.machineBusyPct[2]}% busy; 1 worker: ${d.scale.machineBusyPct[1]}%)` : '')
      : '–',
    s ? `1 worker ${s.oneWorkerPerS} archives/s` : '–',
    n(s?.ratio),
    '≥ 1.6',
    met(t.scale),
  ]);
  const v = r.revisit;
  rows.push([
    'Revisit: unchanged `files.git` (10k files), request → completed',
    v
      ? `best ${v.bestMs} ms, median ${v.medianMs} ms; ${v.bytesAdded} B added; pack fetched: ${v.packFetched ? '**yes**' : 'no'}` +
        (v.allUnchanged ? '' : '; **not all unchanged**') +
        ` (${v.manyRefs.refs} refs: ${v.manyRefs.bestMs} ms, ${v.manyRefs.bytesAdded} B)`
      : '–',
    v
      ? `\`git ls-remote\` best ${v.baselineBestMs} ms, median ${v.baselineMedianMs} ms` +
        ` (${v.manyRefs.refs} refs: ${v.manyRefs.baselineBestMs} ms)`
      : '–',
    n(v?.ratio),
    '≤ 2, < 10 KB added, no pack',
    met(t.revisit),
  ]);
  const c = r.incremental;
  const kb = (bytes) => `${Math.round(bytes / 102.4) / 10} KB`;
  const mb = (bytes) => `${Math.round(bytes / 1024 ** 2 / 0.1) / 10} MB`;
  rows.push(
    [
      'Incremental: large repo (5,001 commits, 10k files), visit after 1 new commit',
      c ? `${c.changedVisitMs} ms` : '–',
      c ? `${c.fullArchiveMs} ms full archive of the same state` : '–',
      n(c?.visitRatio),
      '≤ 0.15',
      met(t.incrementalVisit),
    ],
    [
      'Incremental: bytes that visit added (latest/ apart)',
      c ? `${kb(c.bytesAdded)} (latest/ rewrote ${kb(c.latestBytesRewritten)})` : '–',
      c ? `\`git bundle\` of the change ${kb(c.gitBundleBytes)}, changed files ${kb(c.changedFileBytes)}` : '–',
      n(c?.bytesRatio),
      '≤ 2 × bundle + files',
      met(t.incrementalBytes),
    ],
    [
      'Incremental: restore script, snapshot at chain depth 10',
      c ? `${c.restoreChainMs} ms (${c.restoreChainBundles} bundles)` : '–',
      c ? `${c.restoreFullMs} ms, same script, one full bundle` : '–',
      n(c?.restoreRatio),
      '≤ 1.5',
      met(t.incrementalRestore),
    ],
    [
      `Incremental: stored after ${c ? c.snapshots : '–'} snapshots (30 small changes)`,
      c ? mb(c.storedBytes) : '–',
      c ? `${mb(c.fullCopiesBytes)} as full copies` : '–',
      n(c?.storageRatio),
      'report',
      c ? 'reported' : 'not run',
    ],
  );
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  const line = (row) => `| ${row.map((cell, c) => cell.padEnd(widths[c])).join(' | ')} |`;
  return (
    [line(rows[0]), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line)].join('\n') +
    `\n\nMachine: ${r.machine.cores} cores, ${r.machine.memGiB} GiB.`
  );
}

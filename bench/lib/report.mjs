// The table printed by `make bench` (and copied into bench/README.md), and the issues' targets.
import { fleetCores, SCENARIOS } from './capacity-model.mjs';

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
    capacityModel: check('capacity', (c) => c.check.met),
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
      'Ingest with rate limiter + metrics on, vs both off (6 interleaved rounds each, 5 s, summed)',
      `${i.onRps} req/s, p99 ${i.onP99Ms} ms`,
      `${i.offRps} req/s off`,
      `cost ${i.limitsCost}`,
      '≤ 0.1',
      met(t.ingestLimits),
    ]);
    rows.push([
      'Ingest vs a bare `node:http` handler doing the same I/O (`bench/lib/hand-ingest.mjs`)',
      `${i.onRps} req/s, p99 ${i.onP99Ms} ms${i.cpuUsPerRequest ? `; CPU ${i.cpuUsPerRequest.on} µs/request` : ''}${commits(i, 'on')}`,
      `${i.handRps} req/s by hand${i.cpuUsPerRequest ? ` (CPU ${i.cpuUsPerRequest.hand} µs/request; \`GET /config.json\` ${i.cpuUsPerRequest.configJson})` : ''}${commits(i, 'hand')}`,
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
  const k = r.capacity?.check;
  rows.push([
    'Capacity model: 32 small + 2 medium archives, 1 / 2 workers, predicted from the per-component CPU',
    k ? `predicted ${k[1].predictedS} s / ${k[2].predictedS} s` : '–',
    k ? `measured ${k[1].measuredS} s / ${k[2].measuredS} s` : '–',
    k ? `error ${Math.round(k[1].error * 100)}% / ${Math.round(k[2].error * 100)}%` : '–',
    'error ≤ 25%',
    met(t.capacityModel),
  ]);
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  const line = (row) => `| ${row.map((cell, c) => cell.padEnd(widths[c])).join(' | ')} |`;
  return (
    [line(rows[0]), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line)].join('\n') +
    `\n\nMachine: ${r.machine.cores} cores, ${r.machine.memGiB} GiB.`
  );
}

const COMPONENT_LABELS = {
  frontend: 'frontend',
  injector: 'injector',
  worker: 'worker (Node)',
  git: "git (worker's children)",
  minio: 'MinIO',
  postgres: 'Postgres',
  redis: 'Redis',
  keycloak: 'Keycloak',
  gitServer: 'git server (forge stand-in, not ours)',
};
const SIZE_LABELS = {
  small: 'small (tiny-*, 3 files)',
  medium: 'medium (history.git: 5,000 commits, 100 files)',
  large: 'large (files.git: 10,000 files, 21 MB)',
  binary: 'binary (binary.git: one 200 MiB file)',
  unchanged: 'unchanged visit (history.git copy)',
};

function markdownTable(rows) {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => String(row[c]).length)));
  const line = (row) => `| ${row.map((cell, c) => String(cell).padEnd(widths[c])).join(' | ')} |`;
  return [line(rows[0]), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line)].join('\n');
}

/** The "Capacity model" tables of bench/README.md from the capacity phase's result. */
export function formatCapacity(c, date) {
  if (!c) return 'The capacity phase did not run.';
  const sizes = Object.keys(SIZE_LABELS).filter((s) => c.cpuSecondsPer[s]);
  const components = Object.keys(COMPONENT_LABELS);
  const ours = components.filter((k) => k !== 'gitServer' && k !== 'keycloak');
  const ms = (s) => (s === undefined ? '–' : (s * 1000).toFixed(s < 0.01 ? 2 : 1));
  const cpu = markdownTable([
    ['CPU-ms per item', ...sizes.map((s) => `${SIZE_LABELS[s]} (n=${c.items[s]})`)],
    ...components.map((k) => [COMPONENT_LABELS[k], ...sizes.map((s) => ms(c.cpuSecondsPer[s][k]))]),
    ['**ours, total**', ...sizes.map((s) => `**${ms(ours.reduce((a, k) => a + (c.cpuSecondsPer[s][k] ?? 0), 0))}**`)],
    ['wall time started → finished (s)', ...sizes.map((s) => c.latencySeconds[s])],
  ]);
  const fmt = (v) => (v === null || v === undefined ? '–' : v >= 1e6 ? `${(v / 1e6).toFixed(1)} M` : Math.round(v).toLocaleString('en-US'));
  const hourly = markdownTable([
    ['per hour, 1 core of', ...sizes.map((s) => (s === 'unchanged' ? 'unchanged visits' : `${s} archives`))],
    ...ours.map((k) => [COMPONENT_LABELS[k], ...sizes.map((s) => fmt(c.perCoreHourly[s][k]))]),
  ]);
  // Recomputed from the per-item figures (not the rounded result), so small fleets do not show 0 cores.
  const cores = (v) => (v === 0 ? '0' : v < 0.01 ? v.toPrecision(1) : v < 1 ? v.toPrecision(2) : v.toFixed(1));
  const perArchive = { small: c.cpuSecondsPer.small, medium: c.cpuSecondsPer.medium, large: c.cpuSecondsPer.large };
  const fleetRows = [['scenario', 'repositories', 'visits/h (changed)', ...ours.map((k) => COMPONENT_LABELS[k]), 'total cores']];
  for (const key of Object.keys(c.fleet)) {
    for (const n of [10_000, 100_000]) {
      const f = fleetCores(n, SCENARIOS[key], perArchive, c.cpuSecondsPer.unchanged, ours);
      fleetRows.push([
        key,
        n.toLocaleString('en-US'),
        `${fmt(f.visits.total)} (${fmt(f.visits.changed)})`,
        ...ours.map((k) => cores(f.cores[k])),
        `**${cores(f.total)}**`,
      ]);
    }
  }
  const scenarios = Object.entries(c.fleet)
    .map(([key, f]) => `- \`${key}\`: ${f.label}.`)
    .join('\n');
  const ck = c.check;
  const pct = (e) => (e === undefined ? '–' : `${Math.round(e * 100)}%`);
  const check = markdownTable([
    [
      'workers',
      'predicted',
      'measured (best round)',
      'error',
      'cores left to us',
      'bound that decides',
      'at calibration’s other load',
      'both cores free',
      'machine busy',
    ],
    ...[1, 2].map((w) => [
      w,
      `${ck[w].predictedS} s`,
      `${ck[w].measuredS} s`,
      pct(ck[w].error),
      ck[w].cores ?? '–',
      `${ck[w].limitedBy} (cpu ${ck[w].bounds.cpu} s, worker thread ${ck[w].bounds.workerThread} s, slots ${ck[w].bounds.slots} s)`,
      `${ck[w].predictedCalibrationLoadS ?? ck[w].predictedS} s (${pct(ck[w].errorCalibrationLoad ?? ck[w].error)})`,
      `${ck[w].predictedAllCoresS} s`,
      `${ck[w].machineBusyPct}% (other work ${ck[w].foreignCores} cores)`,
    ]),
  ]);
  return [
    `Measured ${date}.`,
    '',
    cpu,
    '',
    hourly,
    '',
    fleetRows.length > 1 ? markdownTable(fleetRows) : '',
    '',
    scenarios,
    '',
    `Check: ${ck.batch.small} small + ${ck.batch.medium} medium archives, queue resumed → last finished_at; predicted from the calibration's per-component CPU with the cores other work left to us in the counted round (at the other load read during calibration: ${ck.coresAtCalibrationLoad ?? ck.coresForPrediction} cores). Target: error ≤ 25% for 1 and 2 workers — **${ck.met ? 'met' : 'not met'}**.`,
    '',
    check,
  ].join('\n');
}

/** Database commits per request of one side of the ingest rounds (the product shares them between submissions). */
const commits = (ingest, side) => (ingest.commitsPerRequest?.[side] == null ? '' : `; ${ingest.commitsPerRequest[side]} commits/request`);

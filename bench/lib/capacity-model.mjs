// The capacity model of `make bench` (phase `capacity`): pure functions from the CPU-seconds each
// component spends per archive and per unchanged visit (measured by bench/phases/capacity.mjs) to
// throughput per core, the cores a fleet of tracked repositories needs, and a prediction for a
// batch on one machine that the same run checks. No I/O here, so bench/lib/capacity-model.test.mjs
// can check every function with made-up figures.

/** The components the model provisions: ours. The git server stands in for the forge and is reported apart. */
export const OUR_COMPONENTS = ['frontend', 'injector', 'worker', 'git', 'minio', 'postgres', 'redis'];

/** The components busy between the archive queue's resume and the last finished_at (submission and injection came before). */
export const BATCH_COMPONENTS = ['worker', 'git', 'gitServer', 'minio', 'postgres', 'redis'];

/** Archives/visits per hour one core of each component sustains: 3600 / CPU-seconds per item. */
export function perCoreHourly(cpuPerItem, components = OUR_COMPONENTS) {
  return Object.fromEntries(components.map((c) => [c, cpuPerItem[c] > 0 ? 3600 / cpuPerItem[c] : Infinity]));
}

/**
 * Items per hour with `cores[c]` cores given to each component: the scarcest component decides.
 * Returns the rate and which component limits it.
 */
export function hourlyWithCores(cpuPerItem, cores, components = OUR_COMPONENTS) {
  let best = { perHour: Infinity, limitedBy: null };
  for (const c of components) {
    const cpu = cpuPerItem[c] ?? 0;
    if (cpu <= 0) continue;
    const perHour = ((cores[c] ?? 0) * 3600) / cpu;
    if (perHour < best.perHour) best = { perHour, limitedBy: c };
  }
  return best;
}

/**
 * Visits per hour a fleet of `repositories` makes in `scenario`: each class of repository has a
 * share, an interval (hours) and the share of its visits that find a change. Returns visits per
 * hour split into unchanged and changed (by size, per `scenario.sizeMix`).
 */
export function fleetVisitsPerHour(repositories, scenario) {
  let unchanged = 0;
  let changed = 0;
  for (const cls of scenario.classes) {
    const visits = (repositories * cls.share) / cls.intervalHours;
    changed += visits * cls.changedShare;
    unchanged += visits * (1 - cls.changedShare);
  }
  const bySize = Object.fromEntries(Object.entries(scenario.sizeMix).map(([size, share]) => [size, changed * share]));
  return { total: unchanged + changed, unchanged, changed, bySize };
}

/**
 * Cores each component needs to keep the fleet current, running at 100% busy: CPU-seconds per
 * hour / 3600. `perArchive[size][component]` prices a changed visit as a full archive of its size
 * (an upper bound: an incremental visit costs a fraction of that), `perVisit[component]` an
 * unchanged one.
 */
export function fleetCores(repositories, scenario, perArchive, perVisit, components = OUR_COMPONENTS) {
  const visits = fleetVisitsPerHour(repositories, scenario);
  const cores = {};
  for (const c of components) {
    let cpuPerHour = visits.unchanged * (perVisit[c] ?? 0);
    for (const [size, perHour] of Object.entries(visits.bySize)) {
      if (!perArchive[size]) throw new Error(`capacity model: no CPU figures for size ${size}`);
      cpuPerHour += perHour * (perArchive[size][c] ?? 0);
    }
    cores[c] = cpuPerHour / 3600;
  }
  const total = Object.values(cores).reduce((a, b) => a + b, 0);
  return { visits, cores, total };
}

/**
 * Seconds a batch takes on one machine where every component shares `cores`, with `workers`
 * worker processes of `concurrency` slots each. Three bounds, the largest wins:
 * - cpu: all the batch's CPU (BATCH_COMPONENTS) spread over the cores;
 * - workerThread: each worker's Node main thread is one core at most;
 * - slots: archives of `latencySeconds` each, workers × concurrency at a time (the bound when
 *   the machine is not saturated: the worker waits on git, the git server, MinIO).
 * `batch` maps a size to its count; `perArchive[size]` the CPU-seconds per component,
 * `latencySeconds[size]` the started → finished time of one archive.
 */
export function predictBatchSeconds({ batch, perArchive, latencySeconds, cores, workers, concurrency }) {
  let cpu = 0;
  let workerCpu = 0;
  let slotSeconds = 0;
  for (const [size, count] of Object.entries(batch)) {
    const figures = perArchive[size];
    if (!figures) throw new Error(`capacity model: no CPU figures for size ${size}`);
    cpu += count * BATCH_COMPONENTS.reduce((sum, c) => sum + (figures[c] ?? 0), 0);
    workerCpu += count * (figures.worker ?? 0);
    slotSeconds += count * (latencySeconds[size] ?? 0);
  }
  const bounds = { cpu: cpu / cores, workerThread: workerCpu / workers, slots: slotSeconds / (workers * concurrency) };
  const [limitedBy, seconds] = Object.entries(bounds).reduce((a, b) => (b[1] > a[1] ? b : a));
  return { seconds, limitedBy, bounds };
}

/** |predicted − measured| / measured. */
export const relativeError = (predicted, measured) => Math.abs(predicted - measured) / measured;

/**
 * The fleet scenarios of the README. The scheduler (libs/database visit-schedule.ts) halves a
 * repository's interval after a visit that found a change and doubles it after one that found
 * none, between SCHEDULE_MIN_INTERVAL_SECONDS (1 h) and SCHEDULE_MAX_INTERVAL_SECONDS (30 days).
 * A repository that never changes drifts to 30 days; one that changes about daily settles where
 * about half its visits find a change: 16 h (the 2^k-hour step below the ~17 h at which a daily
 * Poisson change is as likely as not).
 */
export const SCENARIOS = {
  adaptive: {
    label: 'adaptive steady state: 80% dormant repositories at the 30-day maximum, 20% changing ~daily at 16 h (half their visits changed)',
    classes: [
      { share: 0.8, intervalHours: 720, changedShare: 0 },
      { share: 0.2, intervalHours: 16, changedShare: 0.5 },
    ],
    sizeMix: { small: 0.7, medium: 0.25, large: 0.05 },
  },
  floor: {
    label: 'every repository at the 1-hour minimum interval, 80% of visits unchanged / 20% changed (upper bound)',
    classes: [{ share: 1, intervalHours: 1, changedShare: 0.2 }],
    sizeMix: { small: 0.7, medium: 0.25, large: 0.05 },
  },
};

// Helpers of the capacity phase (bench/phases/capacity.mjs): copies of the generated
// repositories, which pids count for which component, a measured window net of idle draw, and the
// queue hygiene that keeps other jobs out of the windows.
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { api, db, env, log, queue, round, run, startApp } from './common.mjs';
import { diffComponents, readComponents, servicePid } from './component-cpu.mjs';
import { REPOS_ROOT } from './repos.mjs';

const IDLE_MS = 6000; // how long the idle reading lasts (the rates it gives are subtracted)
const SERVICES = ['minio', 'postgres', 'redis', 'keycloak'];
const gitEnv = {
  PATH: '/usr/local/bin:/usr/bin:/bin',
  HOME: env.state,
  LC_ALL: 'C',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
};

/** A hard-linked mirror of `source` under a name of this run (cheap: the objects are shared). */
export async function copyRepo(source, name) {
  await run(
    'git',
    ['clone', '--mirror', '--quiet', '--local', path.join(REPOS_ROOT, `${source}.git`), path.join(REPOS_ROOT, `${name}.git`)],
    {
      env: gitEnv,
    },
  );
  return name;
}

/** Which pids count for which component (see readComponents). */
export function pidSpec(apps, workers, gitServer) {
  const spec = {
    frontend: { tree: [apps.frontend.pid] },
    injector: { tree: [apps.injector.pid] },
    worker: { self: workers.map((w) => w.pid) },
    git: { children: workers.map((w) => w.pid) },
    gitServerProxy: { self: [gitServer.pid] },
    gitServerBackend: { children: [gitServer.pid] },
  };
  for (const s of SERVICES) {
    const pid = servicePid(env.state, s);
    if (pid === null && s !== 'keycloak') throw new Error(`capacity: no live ${s} of the bench stack (scripts/stack.sh start-services)`);
    spec[s] = { tree: pid === null ? [] : [pid] };
  }
  return spec;
}

/** Until neither queue holds a job in flight (bounded): the last acks and stamps belong to the work. */
export async function settled() {
  for (let i = 0; i < 200; i++) {
    const counts = await Promise.all(['pending', 'archive'].map((q) => queue(q).getJobCounts('active', 'waiting', 'prioritized')));
    if (counts.every((c) => Object.values(c).every((n) => n === 0))) return;
    await sleep(50);
  }
}

/**
 * Each component's draw with nothing queued, read once before any work: read before every window,
 * it caught the previous window's tail (the worker and MinIO still finishing a large archive after
 * its finished_at) and subtracted real work from the next one.
 */
export async function idleReading(spec) {
  await settled();
  const idle0 = readComponents(spec);
  await sleep(IDLE_MS);
  return diffComponents(idle0, readComponents(spec));
}

/** CPU of `work` per component, net of each component's `idle` rate (idleReading). */
export async function measure(spec, idle, work) {
  const before = readComponents(spec);
  const info = await work();
  await settled();
  const gross = diffComponents(before, readComponents(spec));
  const net = {};
  for (const c of Object.keys(gross.cpu)) net[c] = Math.max(0, gross.cpu[c] - (idle.cpu[c] / idle.seconds) * gross.seconds);
  return { info, gross, idle, net };
}

/** The rows of finished archives with their outcome (waitFinished does not read it). */
export async function withOutcome(rows) {
  const { rows: outcomes } = await db().query('SELECT id, outcome FROM archive WHERE id = ANY($1::uuid[])', [rows.map((r) => r.id)]);
  const byId = new Map(outcomes.map((o) => [o.id, o.outcome]));
  return rows.map((r) => ({ ...r, outcome: byId.get(r.id) }));
}

export const completed = (rows, what, outcome) => {
  const bad = rows.filter((r) => r.status !== 'completed' || (outcome && r.outcome !== outcome));
  if (bad.length)
    throw new Error(
      `capacity: ${bad.length} ${what} not ${outcome ?? 'completed'}: ${bad[0].status} ${bad[0].outcome} ${bad[0].error_code} ${bad[0].error}`,
    );
  return rows;
};
export const meanLatency = (rows) => rows.reduce((s, r) => s + (r.finished_at - r.started_at) / 1000, 0) / rows.length;

/** Adds the net CPU of several measurements and divides by the items they did. */
export function perItem(measurements, items) {
  const sum = {};
  for (const m of measurements) for (const [c, v] of Object.entries(m.net)) sum[c] = (sum[c] ?? 0) + v;
  const out = Object.fromEntries(Object.entries(sum).map(([c, v]) => [c, v / items]));
  out.gitServer = out.gitServerProxy + out.gitServerBackend;
  return out;
}

export const rounded = (o, digits = 4) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, round(v, digits)]));

/**
 * Removes tracked repositories with their snapshots (DELETE …?purge=true answers at once and a
 * worker purges from the `purge` queue), then runs a worker until that queue is empty, so no
 * purge lands in a later measurement. Deleting a 10,000-file archive synchronously through
 * DELETE /api/archives can outlast the frontend's request timeout on a busy machine.
 */
export async function purgeTracked(frontendUrl, repositoryIds) {
  for (const id of repositoryIds) {
    const res = await api(frontendUrl, 'DELETE', `/api/repositories/${id}?purge=true`, undefined, env.admin);
    if (res.status !== 202 && res.status !== 204 && res.status !== 404) log(`capacity: could not purge ${id}: HTTP ${res.status}`);
  }
  await drainPurges();
}

export async function drainPurges() {
  const purge = queue('purge');
  const left = async () =>
    Object.values(await purge.getJobCounts('active', 'waiting', 'delayed', 'prioritized')).reduce((a, b) => a + b, 0);
  if (!(await left())) return;
  const worker = await startApp('worker');
  try {
    for (let i = 0; i < 1200 && (await left()); i++) await sleep(100);
    if (await left()) log('capacity: purges still queued after 120 s; they run with the next worker');
  } finally {
    await worker.stop();
  }
}

/** Jobs left in the queues (e.g. by an interrupted run) would be worked on inside the windows and counted. */
export async function assertQueuesEmpty() {
  for (const name of ['pending', 'archive']) {
    const counts = await queue(name).getJobCounts('active', 'waiting', 'delayed', 'prioritized');
    const left = Object.values(counts).reduce((a, b) => a + b, 0);
    if (left)
      throw new Error(
        `capacity: the ${name} queue of the bench stack holds ${left} job(s) (${JSON.stringify(counts)}); their work would be counted as ours. ` +
          'Empty it first (e.g. scripts/stack.sh stop && remove .local/state/bench/redis, or BullMQ obliterate).',
      );
  }
}

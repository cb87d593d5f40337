// Ingest: authenticated POST /api/archives under autocannon against a frontend with no
// injector or worker running, so every accepted archive must sit in Postgres (pending) with
// its job waiting in the `pending` queue. Baselines, all in the same run:
// - GET /config.json of the same app: public, answered from memory, through the same
//   Express/Nest stack and global auth guard (the trivial route; issue 5's ratio);
// - the same POST on a frontend with the rate limiter and metrics off (SUBMISSIONS_PER_MINUTE=0,
//   FRONTEND_METRICS_PORT=0): what those two cost (issue 13: ≤ 10%);
// - bench/lib/hand-ingest.mjs, a bare node:http handler doing the same I/O (token signature,
//   the product's insert, the BullMQ job): the product's ingest as a share of the least a Node
//   process can do (issue 13: ≥ 0.7).
// The three POST sides alternate over six short rounds each (on, off, hand, hand, off, on, and
// so on) and each side's rounds are summed: the limiter's cost is a few percent, less than one
// round moves on a shared machine, and a slow spell of the machine then reaches every side
// alike instead of deciding which side had the best round. /health is measured too, for
// information only: it pings Postgres, Redis, MinIO and Keycloak on every call, so it is not a
// trivial route.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { db, env, freePort, log, machineCpu, queue, require, ROOT, round, startApp, token } from '../lib/common.mjs';
import { diffComponents, readComponents, servicePid } from '../lib/component-cpu.mjs';

const CONNECTIONS = 20;
const POST_SECONDS = 15;
const ROUND_SECONDS = 5;
// Cycles of on, off, hand, hand, off, on: each side runs 2 × CYCLES rounds.
const CYCLES = 3;
const BASELINE_SECONDS = 10;
const HEALTH_SECONDS = 5;
const WARMUP_SECONDS = 3;
// An allowlisted loopback host (ARCHIVER_ALLOWED_HOSTS of the bench stack); nothing listens
// there and nothing will fetch: no injector or worker runs during this phase.
const TARGET = 'http://127.0.0.1:9';

function cannon(options) {
  const autocannon = require('autocannon');
  return autocannon({ connections: CONNECTIONS, timeout: 10, ...options });
}

const summary = (r) => ({
  rps: round(r.requests.average, 0),
  p50Ms: round(r.latency.p50, 1),
  p99Ms: round(r.latency.p99, 1),
  errors: r.errors + r.timeouts + r.non2xx,
  requests: r.requests.total,
});

/** Which processes count for what while a side serves: the server itself and the stack's services. */
function pidSpec(serverPid) {
  const spec = { server: { tree: [serverPid] } };
  for (const service of ['postgres', 'redis', 'keycloak']) {
    const pid = servicePid(env.state, service);
    spec[service] = { tree: pid === null ? [] : [pid] };
  }
  return spec;
}

const perRequest = (seconds, requests) => (requests > 0 ? round((1e6 * seconds) / requests, 0) : null);

/**
 * Transactions committed in the database so far (Postgres' own counter). Its counters reach
 * pg_stat_database within about a second, so over a 10 s round the figure is close, not exact.
 */
async function commits() {
  const { rows } = await db().query('SELECT xact_commit::float8 AS n FROM pg_stat_database WHERE datname = current_database()');
  return rows[0].n;
}

/** Runs `load` and adds how busy the serving process (100% = one core) and the machine were. */
async function measured(pid, seconds, load) {
  const spec = pidSpec(pid);
  const committedBefore = await commits();
  const before = readComponents(spec);
  const machine = machineCpu();
  const result = summary(await load());
  const window = diffComponents(before, readComponents(spec));
  await new Promise((resolve) => setTimeout(resolve, 1100));
  return {
    ...result,
    // The product commits the submissions that arrive together in one statement; the hand
    // handler once per request (the 1.1 s wait lets the last second's counts arrive).
    commitsPerRequest: result.requests > 0 ? round(((await commits()) - committedBefore) / result.requests, 2) : null,
    frontendCpuPct: round((100 * window.cpu.server) / seconds, 0),
    // CPU the serving process spent per request: unlike req/s, hardly moved by the rest of a busy
    // machine, so it says where the time goes (framework, clients, logging) between the sides.
    cpuUsPerRequest: perRequest(window.cpu.server, result.requests),
    // Every request also costs the services and the load generator (autocannon runs in this
    // process, "driver"): on 2 shared cores their sum, not the server alone, bounds req/s.
    cpuUsPerRequestBy: {
      ...Object.fromEntries(Object.entries(window.cpu).map(([c, s]) => [c, perRequest(s, result.requests)])),
      driver: perRequest(window.driver, result.requests),
      foreign: perRequest(window.foreign, result.requests),
      machine: perRequest(window.machine, result.requests),
    },
    machineBusyPct: round(100 * machine.busy(), 0),
  };
}

async function post(frontendUrl, tag, seconds, accepted) {
  const bearer = await token();
  let n = 0;
  return cannon({
    url: frontendUrl,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        path: '/api/archives',
        headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
        // A distinct repository per request: a repeated URL would be answered from the dedupe.
        setupRequest: (req) => ({ ...req, body: JSON.stringify({ url: `${TARGET}/${tag}/r/${n++}.git` }) }),
        onResponse: (status, body) => {
          if (status === 202) accepted.push(JSON.parse(body).id);
        },
      },
    ],
  });
}

/** Every 202'd archive must exist in Postgres and have its job in the `pending` queue. */
async function countLost(ids) {
  const found = new Set();
  for (let i = 0; i < ids.length; i += 5000) {
    const { rows } = await db().query('SELECT id FROM archive WHERE id = ANY($1::uuid[])', [ids.slice(i, i + 5000)]);
    for (const row of rows) found.add(row.id);
  }
  const pending = queue('pending');
  let lost = 0;
  for (let i = 0; i < ids.length; i += 500) {
    const jobs = await Promise.all(ids.slice(i, i + 500).map((id) => pending.getJob(id)));
    jobs.forEach((job, k) => {
      const id = ids[i + k];
      if (!found.has(id) || !job || job.data?.archiveId !== id) lost++;
    });
  }
  return lost;
}

/** Every archive whose URL the run named under `tag` (the main load's, warm-ups', rounds'). */
async function cleanUp(tag) {
  const { rows } = await db().query('DELETE FROM archive WHERE url LIKE $1 RETURNING id', [`${TARGET}/${tag}%`]);
  const pending = queue('pending');
  for (let i = 0; i < rows.length; i += 500) await Promise.all(rows.slice(i, i + 500).map((r) => pending.remove(r.id)));
  return rows.length;
}

/** bench/lib/hand-ingest.mjs as a process of its own, like the frontend; stopped by `stop()`. */
async function startHandIngest() {
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(ROOT, 'bench/lib/hand-ingest.mjs'), String(port)], {
    env: process.env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = await Promise.race([
    once(child.stdout, 'data'),
    once(child, 'exit').then(([code]) => Promise.reject(new Error(`hand-ingest exited with ${code}`))),
  ]);
  if (!String(line).includes('ready')) throw new Error(`hand-ingest said ${line}`);
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid,
    stop: async () => {
      child.kill('SIGTERM');
      if (child.exitCode === null) await once(child, 'exit');
    },
  };
}

const sum = (values) => values.reduce((a, b) => a + b, 0);
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** Per request over all of a side's rounds: each round's figure weighted by its requests. */
function perRequestOverall(rounds, figure, digits) {
  const requests = sum(rounds.map((r) => r.requests));
  const values = rounds.map(figure);
  if (requests === 0 || values.some((v) => v === null || v === undefined)) return null;
  return round(sum(values.map((v, i) => v * rounds[i].requests)) / requests, digits);
}

/** A side's rounds as one: its rate over all of them, the median round's p99, costs per request. */
function combined(rounds) {
  const requests = sum(rounds.map((r) => r.requests));
  return {
    rps: round(requests / (ROUND_SECONDS * rounds.length), 0),
    p99Ms: median(rounds.map((r) => r.p99Ms)),
    worstP99Ms: Math.max(...rounds.map((r) => r.p99Ms)),
    errors: sum(rounds.map((r) => r.errors)),
    requests,
    commitsPerRequest: perRequestOverall(rounds, (r) => r.commitsPerRequest, 2),
    cpuUsPerRequest: perRequestOverall(rounds, (r) => r.cpuUsPerRequest, 0),
    cpuUsPerRequestBy: Object.fromEntries(
      Object.keys(rounds[0].cpuUsPerRequestBy).map((c) => [c, perRequestOverall(rounds, (r) => r.cpuUsPerRequestBy[c], 0)]),
    ),
    machineBusyPct: round(sum(rounds.map((r) => r.machineBusyPct)) / rounds.length, 0),
    rounds: rounds.map(({ rps, p99Ms, cpuUsPerRequest, machineBusyPct }) => ({ rps, p99Ms, cpuUsPerRequest, machineBusyPct })),
  };
}

/** Every side's rounds of POSTs, interleaved, each side's combined. */
async function alternatingRounds(sides, tag) {
  const order = Array.from({ length: CYCLES }, () => [...sides, ...[...sides].reverse()]).flat();
  const rounds = Object.fromEntries(sides.map((side) => [side.name, []]));
  for (const [n, side] of order.entries()) {
    log(`ingest: round ${n + 1}/${order.length}, ${side.name}: POST /api/archives, ${ROUND_SECONDS} s`);
    rounds[side.name].push(await measured(side.pid, ROUND_SECONDS, () => post(side.url, `${tag}-${side.name}-${n}`, ROUND_SECONDS, [])));
  }
  return Object.fromEntries(Object.entries(rounds).map(([name, list]) => [name, combined(list)]));
}

export async function ingest() {
  const tag = `bench-ingest-${Date.now()}`;
  // Limiter and metrics on as in production (the bench stack's limit is far above this load).
  const frontend = await startApp('frontend', { SUBMISSIONS_PER_MINUTE: '100000000' });
  const bare = await startApp('frontend', { SUBMISSIONS_PER_MINUTE: '0', FRONTEND_METRICS_PORT: '0' });
  const hand = await startHandIngest();
  const accepted = [];
  try {
    log('ingest: warm-up');
    await cannon({ url: `${frontend.url}/config.json`, duration: WARMUP_SECONDS });
    for (const side of [frontend, bare, hand]) await post(side.url, `${tag}-warmup`, WARMUP_SECONDS, []);

    log(`ingest: baseline GET /config.json, ${BASELINE_SECONDS} s x ${CONNECTIONS} connections`);
    const baseline = await measured(frontend.pid, BASELINE_SECONDS, () =>
      cannon({ url: `${frontend.url}/config.json`, duration: BASELINE_SECONDS }),
    );
    log(`ingest: POST /api/archives, ${POST_SECONDS} s x ${CONNECTIONS} connections`);
    const load = await measured(frontend.pid, POST_SECONDS, () => post(frontend.url, tag, POST_SECONDS, accepted));
    log(`ingest: GET /health (information), ${HEALTH_SECONDS} s`);
    const health = await measured(frontend.pid, HEALTH_SECONDS, () => cannon({ url: `${frontend.url}/health`, duration: HEALTH_SECONDS }));
    const rounds = await alternatingRounds(
      [
        { name: 'on', url: frontend.url, pid: frontend.pid },
        { name: 'off', url: bare.url, pid: bare.pid },
        { name: 'hand', url: hand.url, pid: hand.pid },
      ],
      tag,
    );

    const lost = await countLost(accepted);
    log(`ingest: ${accepted.length} accepted, ${lost} lost`);
    return {
      result: {
        ...pick(load),
        baselineRps: baseline.rps,
        ratio: round(load.rps / baseline.rps, 2),
        lost,
        // Issue 13: what the limiter and metrics cost, and the share of a bare handler's rate.
        onRps: rounds.on.rps,
        onP99Ms: rounds.on.p99Ms,
        offRps: rounds.off.rps,
        limitsCost: round(1 - rounds.on.rps / rounds.off.rps, 2),
        handRps: rounds.hand.rps,
        vsHand: round(rounds.on.rps / rounds.hand.rps, 2),
        cpuUsPerRequest: {
          on: rounds.on.cpuUsPerRequest,
          off: rounds.off.cpuUsPerRequest,
          hand: rounds.hand.cpuUsPerRequest,
          configJson: baseline.cpuUsPerRequest,
        },
        // Where each side's requests cost CPU: server, Postgres, Redis, Keycloak, autocannon, the rest.
        cpuUsPerRequestBy: { on: rounds.on.cpuUsPerRequestBy, hand: rounds.hand.cpuUsPerRequestBy },
        commitsPerRequest: { on: rounds.on.commitsPerRequest, hand: rounds.hand.commitsPerRequest },
      },
      details: {
        connections: CONNECTIONS,
        seconds: POST_SECONDS,
        accepted: accepted.length,
        post: load,
        baselineConfigJson: baseline,
        health,
        rounds,
      },
    };
  } finally {
    await Promise.all([frontend.stop(), bare.stop(), hand.stop()]);
    const removed = await cleanUp(tag).catch((error) => log(`ingest clean-up failed: ${error.message}`));
    log(`ingest: removed ${removed} archives and their jobs`);
  }
}

const pick = ({ rps, p50Ms, p99Ms, errors }) => ({ rps, p50Ms, p99Ms, errors });

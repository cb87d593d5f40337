// Shared helpers of the benchmarks: the stack's settings (exported by scripts/env.sh with
// STACK=bench), built apps as child processes, a Keycloak token, the REST API, Postgres and
// BullMQ access for checks and clean-up, and RSS sampling. Only loopback is ever contacted.
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const require = createRequire(path.join(ROOT, 'package.json'));

function need(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the bench through bench/run.sh (it sources scripts/env.sh with STACK=bench)`);
  return value;
}

if (process.env.STACK !== 'bench') throw new Error(`STACK must be "bench" (got ${JSON.stringify(process.env.STACK)})`);

export const env = {
  state: path.join(ROOT, '.local/state/bench'),
  databaseUrl: need('DATABASE_URL'),
  redisUrl: need('REDIS_URL'),
  minio: {
    endpoint: need('MINIO_ENDPOINT'),
    accessKey: need('MINIO_ACCESS_KEY'),
    secretKey: need('MINIO_SECRET_KEY'),
    region: process.env.MINIO_REGION || 'us-east-1',
  },
  keycloakUrl: need('KEYCLOAK_URL'),
  realm: process.env.KEYCLOAK_REALM || 'archiver',
  demo: { username: 'demo', password: need('DEMO_PASSWORD') },
  admin: { username: 'admin', password: need('ADMIN_PASSWORD') },
  // The apps' defaults (libs/config/src/config.schema.ts) unless the environment sets them.
  workerConcurrency: Number(process.env.WORKER_CONCURRENCY || 2),
  uploadConcurrency: Number(process.env.UPLOAD_CONCURRENCY || 8),
};
export const PIDS_DIR = path.join(env.state, 'bench-pids');
export const LOG_DIR = path.join(env.state, 'logs');

export const log = (...args) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...args);

export function run(cmd, args, options = {}) {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { maxBuffer: 512 * 1024 * 1024, encoding: 'buffer', ...options }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${cmd} ${args.join(' ')} failed: ${stderr.toString().trim() || error.message}`));
      else resolve(stdout);
    });
  });
}

export async function freePort() {
  const server = createServer();
  await new Promise((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

// ---------------------------------------------------------------- built apps as children
const children = new Set();
let appSeq = 0;

/**
 * Starts dist/apps/<name>/.../main.js on a free port (like libs/testing's startApp), records
 * its PID under bench-pids/ so bench/run.sh can stop it even if this process dies, and waits
 * until /health answers. `nodeArgs` e.g. ['--cpu-prof'] for profiling.
 */
export async function startApp(name, extraEnv = {}, { nodeArgs = [], timeoutMs = 60_000 } = {}) {
  const port = await freePort();
  const main = path.join(ROOT, 'dist/apps', name, 'apps', name, 'src/main.js');
  await mkdir(PIDS_DIR, { recursive: true });
  await mkdir(LOG_DIR, { recursive: true });
  const logFile = path.join(LOG_DIR, `bench-${name}-${++appSeq}.log`);
  const out = createWriteStream(logFile);
  const child = spawn(process.execPath, [...nodeArgs, main], {
    cwd: ROOT,
    // A metrics listener of its own too: several apps of one kind may run at once.
    env: {
      ...process.env,
      [`${name.toUpperCase()}_PORT`]: String(port),
      [`${name.toUpperCase()}_METRICS_PORT`]: String(await freePort()),
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.pipe(out, { end: false });
  child.stderr.pipe(out, { end: false });
  const pidFile = path.join(PIDS_DIR, String(child.pid));
  await writeFile(pidFile, `${name}\n`);
  const exited = once(child, 'exit');
  const app = {
    name,
    pid: child.pid,
    url: `http://127.0.0.1:${port}`,
    logFile,
    async stop(graceMs = 20_000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      children.delete(app);
      await rm(pidFile, { force: true });
    },
  };
  children.add(app);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}; see ${logFile}`);
    try {
      const res = await fetch(`${app.url}/health`, { signal: AbortSignal.timeout(5000) });
      await res.arrayBuffer();
      if (res.ok) return app;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await app.stop(1000);
      throw new Error(`${name} did not become healthy within ${timeoutMs} ms; see ${logFile}`);
    }
    await sleep(200);
  }
}

export async function stopAllApps() {
  await Promise.all([...children].map((app) => app.stop()));
}

// ---------------------------------------------------------------- auth and REST
const tokens = new Map();
const logins = new Map();
/** An access token of `user`, cached; one login at a time per user (Keycloak's brute-force guard fails concurrent ones). */
export async function token(user = env.demo) {
  const cached = tokens.get(user.username);
  if (cached && cached.expiresAt > Date.now() + 60_000) return cached.token;
  if (!logins.has(user.username))
    logins.set(
      user.username,
      login(user).finally(() => logins.delete(user.username)),
    );
  return logins.get(user.username);
}

async function login(user) {
  let res;
  // Two tries only: the realm locks an account after repeated failed logins.
  for (let attempt = 1; ; attempt++) {
    res = await fetch(`${env.keycloakUrl}/realms/${env.realm}/protocol/openid-connect/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'password',
        client_id: 'archiver-cli',
        username: user.username,
        password: user.password,
        scope: 'openid',
      }),
    });
    if (res.ok || attempt === 2) break;
    log(`Keycloak token for ${user.username}: HTTP ${res.status} ${await res.text()}; retrying once`);
    await sleep(3000);
  }
  if (!res.ok) throw new Error(`Keycloak token for ${user.username}: HTTP ${res.status} ${await res.text()}`);
  const body = await res.json();
  tokens.set(user.username, { token: body.access_token, expiresAt: Date.now() + body.expires_in * 1000 });
  return body.access_token;
}

export async function api(baseUrl, method, route, body, user = env.demo) {
  const res = await fetch(`${baseUrl}${route}`, {
    method,
    headers: { authorization: `Bearer ${await token(user)}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

export async function submit(baseUrl, url) {
  const res = await api(baseUrl, 'POST', '/api/archives', { url });
  if (res.status !== 202) throw new Error(`POST /api/archives ${url}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Deletes finished archives through the API (objects, row, empty bucket), a few at a time. */
export async function deleteArchives(baseUrl, ids, parallel = 4) {
  let next = 0;
  const failures = [];
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < ids.length) {
        const id = ids[next++];
        const res = await api(baseUrl, 'DELETE', `/api/archives/${id}`, undefined, env.admin);
        if (res.status !== 204 && res.status !== 404) failures.push(`${id}: ${res.status} ${JSON.stringify(res.body)}`);
      }
    }),
  );
  if (failures.length) log(`could not delete ${failures.length} archive(s): ${failures.slice(0, 3).join('; ')}`);
}

// ---------------------------------------------------------------- Postgres and BullMQ
let pool;
export function db() {
  if (!pool) {
    const { Pool } = require('pg');
    pool = new Pool({ connectionString: env.databaseUrl, max: 4 });
  }
  return pool;
}

export async function closeClients() {
  await pool?.end();
  pool = undefined;
  for (const queue of queues.values()) await queue.close();
  queues.clear();
}

const queues = new Map();
export function queue(name) {
  if (!queues.has(name)) {
    const { Queue } = require('bullmq');
    const url = new URL(env.redisUrl);
    const q = new Queue(name, {
      connection: { host: url.hostname, port: Number(url.port), password: decodeURIComponent(url.password), maxRetriesPerRequest: null },
    });
    q.on('error', () => undefined);
    queues.set(name, q);
  }
  return queues.get(name);
}

/**
 * Polls Postgres until every archive in `ids` is completed or failed. Returns the rows with
 * their stage stamps; end of the work is max(finished_at), independent of the poll interval.
 */
export async function waitFinished(ids, { timeoutMs = 600_000, intervalMs = 100, statuses = ['completed', 'failed'] } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await db().query(
      `SELECT id, url, status, error_code, error, created_at, injected_at, started_at, finished_at, file_count, byte_count, attempts
       FROM archive WHERE id = ANY($1::uuid[])`,
      [ids],
    );
    const done = rows.filter((r) => statuses.includes(r.status));
    if (done.length === ids.length) return rows;
    if (Date.now() > deadline) {
      const stuck = rows.filter((r) => !statuses.includes(r.status)).map((r) => `${r.url} ${r.status}`);
      throw new Error(`timed out waiting for ${stuck.length} archive(s): ${stuck.slice(0, 5).join(', ')}`);
    }
    await sleep(intervalMs);
  }
}

// ---------------------------------------------------------------- memory
function statusKb(pid, field) {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

/** Samples VmRSS of `pid` every `intervalMs`; stop() returns the peak sample and the kernel's VmHWM, in MB. */
export function sampleRss(pid, intervalMs = 100) {
  let peakKb = statusKb(pid, 'VmRSS');
  const startKb = peakKb;
  const timer = setInterval(() => (peakKb = Math.max(peakKb, statusKb(pid, 'VmRSS'))), intervalMs);
  return {
    stop() {
      clearInterval(timer);
      peakKb = Math.max(peakKb, statusKb(pid, 'VmRSS'));
      const mb = (kb) => Math.round((kb / 1024) * 10) / 10;
      return { startRssMb: mb(startKb), peakRssMb: mb(peakKb), hwmMb: mb(statusKb(pid, 'VmHWM')) };
    },
  };
}

/** CPU seconds (user + system) `pid` has used so far, from /proc/<pid>/stat. */
export function processCpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Whole-machine CPU from /proc/stat; busy() since `start` as a fraction of all cores' time. */
export function machineCpu() {
  const read = () => {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const idle = fields[3] + fields[4];
    return { idle, all: fields.reduce((a, b) => a + b, 0) };
  };
  const start = read();
  return {
    busy() {
      const now = read();
      return 1 - (now.idle - start.idle) / (now.all - start.all);
    },
  };
}

// ---------------------------------------------------------------- misc
export const round = (value, digits = 1) => (Number.isFinite(value) ? Math.round(value * 10 ** digits) / 10 ** digits : null);
export const seconds = (ms) => round(ms / 1000, 2);

/** Runs `task` over `items` with at most `limit` in flight; resolves to the results in order. */
export async function mapLimit(items, limit, task) {
  const results = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await task(items[index], index);
      }
    }),
  );
  return results;
}

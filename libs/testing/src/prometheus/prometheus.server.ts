import { execFile } from 'node:child_process';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../stack/app-process';
import { spawnUntilReady } from '../support/ready-process';

const ROOT = path.resolve(__dirname, '../../../..');
/** Where `make deps` (scripts/deps.sh, install_prometheus) builds Prometheus and promtool. */
export const PROMETHEUS_BIN = path.join(ROOT, '.local/bin/prometheus');
export const PROMTOOL_BIN = path.join(ROOT, '.local/bin/promtool');

export interface PrometheusOptions {
  /** Scrape jobs: job name → `host:port` targets (loopback only). */
  targets: Record<string, string[]>;
  /** Rule files Prometheus loads and evaluates (absolute paths). */
  ruleFiles?: string[];
  scrapeIntervalSeconds?: number;
  timeoutMs?: number;
}

/** One sample of an instant vector. */
export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface PrometheusHandle {
  url: string;
  pid: number;
  /** Evaluates PromQL now; rejects with Prometheus' error (a parse error, a bad function) if it fails. */
  query(expr: string): Promise<PromSample[]>;
  /** Prometheus' own parse of `expr` (`/api/v1/parse_query`): its syntax tree, or its parse error. */
  parse(expr: string): Promise<unknown>;
  /** Names of every series Prometheus holds. */
  seriesNames(): Promise<string[]>;
  /** `/api/v1/<path>`'s data. */
  api<T>(apiPath: string): Promise<T>;
  output(): string;
  /** SIGTERM (SIGKILL after a grace period) and delete its config and data. */
  stop(): Promise<void>;
}

interface ApiAnswer<T> {
  status: 'success' | 'error';
  data?: T;
  errorType?: string;
  error?: string;
}

/**
 * Runs the real Prometheus built by `make deps` on a free loopback port, scraping `targets` every
 * `scrapeIntervalSeconds` (1 s by default) into a throw-away data dir, and waits until it is
 * ready. The web UI's assets are not built in, which the HTTP API does not need.
 */
export async function startPrometheus(options: PrometheusOptions): Promise<PrometheusHandle> {
  await access(PROMETHEUS_BIN).catch(() => {
    throw new Error(`${PROMETHEUS_BIN} is missing: run \`make deps\` (scripts/deps.sh builds Prometheus from the Go module proxy)`);
  });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'archiver-prometheus-'));
  const interval = `${options.scrapeIntervalSeconds ?? 1}s`;
  const config = {
    global: { scrape_interval: interval, evaluation_interval: interval, scrape_timeout: interval },
    rule_files: options.ruleFiles ?? [],
    scrape_configs: Object.entries(options.targets).map(([job, targets]) => ({ job_name: job, static_configs: [{ targets }] })),
  };
  // JSON is YAML: no YAML writer needed.
  await writeFile(path.join(dir, 'prometheus.yml'), JSON.stringify(config, null, 2));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  try {
    const process_ = await spawnUntilReady({
      name: `prometheus (port ${port})`,
      command: PROMETHEUS_BIN,
      args: [
        `--config.file=${path.join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      env: { PATH: process.env.PATH ?? '' },
      cwd: dir,
      ready: async () => (await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2000) })).ok,
      timeoutMs: options.timeoutMs ?? 30_000,
    });
    const api = async <T>(apiPath: string, form?: Record<string, string>): Promise<T> => {
      const response = await fetch(`${url}/api/v1/${apiPath}`, {
        method: form ? 'POST' : 'GET',
        body: form ? new URLSearchParams(form) : undefined,
        signal: AbortSignal.timeout(10_000),
      });
      const answer = (await response.json()) as ApiAnswer<T>;
      if (answer.status !== 'success') throw new Error(`Prometheus ${apiPath}: ${answer.errorType}: ${answer.error}`);
      return answer.data as T;
    };
    return {
      url,
      pid: process_.child.pid!,
      api: (apiPath) => api(apiPath),
      query: async (expr) => (await api<{ resultType: string; result: PromSample[] }>('query', { query: expr })).result,
      parse: (expr) => api('parse_query', { query: expr }),
      seriesNames: () => api<string[]>('label/__name__/values'),
      output: process_.output,
      async stop() {
        try {
          await process_.stop(10_000);
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** Runs promtool (`check rules`, `check config`, …); resolves with its exit code and output, never rejects on a non-zero exit. */
export async function promtool(args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(PROMTOOL_BIN, args, { cwd: ROOT, timeout: 60_000 });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number | string; stdout?: string; stderr?: string; message: string };
    if (typeof failed.code !== 'number') throw error;
    return { code: failed.code, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

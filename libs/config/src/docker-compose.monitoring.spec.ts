import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { configSchema } from './config.schema';

// The monitoring part of the Compose stack, checked statically like the rest of it (no Docker
// engine here): Prometheus scrapes each app where the app listens, with the token the apps
// require, and Grafana reads the dashboards and the data source they name. What the rules and
// the dashboard's queries mean is checked against a real Prometheus in
// test/integration/prometheus.int-spec.ts.

const root = path.resolve(__dirname, '../../..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');
const yaml = <T>(file: string) => YAML.parse(read(file), { merge: true }) as T;

interface Service {
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  secrets?: string[];
}
interface ScrapeConfig {
  job_name: string;
  authorization?: { credentials_file?: string };
  static_configs?: { targets: string[] }[];
  dns_sd_configs?: { names: string[]; type: string; port: number }[];
  file_sd_configs?: { files: string[] }[];
}
interface PrometheusConfig {
  rule_files: string[];
  scrape_configs: ScrapeConfig[];
}

const apps = ['frontend', 'injector', 'worker'] as const;
/** The metrics port an app listens on when nothing sets it (compose sets none). */
const defaultMetricsPort = (app: (typeof apps)[number]) =>
  configSchema.shape[`${app.toUpperCase() as Uppercase<typeof app>}_METRICS_PORT`].parse(undefined);

/** Where a service mounts a bind source (`./deploy/x:/target:ro` → `/target`). */
function mountTarget(svc: Service, source: string): string | undefined {
  return svc.volumes?.map((volume) => volume.split(':')).find(([from]) => from === source)?.[1];
}

/** Every `targets` entry of a scrape job, DNS names with their port included. */
function targetsOf(job: ScrapeConfig): string[] {
  return [
    ...(job.static_configs ?? []).flatMap((config) => config.targets),
    ...(job.dns_sd_configs ?? []).flatMap((config) => config.names.map((name) => `${name}:${config.port}`)),
  ];
}

describe('docker-compose.yml: prometheus and grafana', () => {
  const compose = yaml<{ services: Record<string, Service>; secrets?: Record<string, { environment?: string }> }>('docker-compose.yml');
  const service = (name: string) => compose.services[name];

  it('opens each app’s metrics listener to the compose network only with the token from the env file', () => {
    for (const app of apps) {
      expect({ app, env: service(app).environment }).toMatchObject({
        app,
        env: { METRICS_HOST: '0.0.0.0', METRICS_TOKEN: expect.stringMatching(/^\$\{METRICS_TOKEN:\?[^}]+\}$/) },
      });
    }
    expect(read('scripts/compose-env.sh')).toMatch(/^put METRICS_TOKEN "\$\(gen\)"$/m);
  });

  it('scrapes every app at the service and port it listens on, sending the token as a compose secret file', () => {
    const sut = yaml<PrometheusConfig>('deploy/prometheus/prometheus.yml');
    const jobs = Object.fromEntries(sut.scrape_configs.map((job) => [job.job_name, job]));
    expect(Object.keys(jobs).sort()).toEqual([...apps].sort());
    const prometheus = service('prometheus');
    for (const app of apps) {
      expect({ app, targets: targetsOf(jobs[app]) }).toEqual({ app, targets: [`${app}:${defaultMetricsPort(app)}`] });
      const file = jobs[app].authorization?.credentials_file ?? '';
      const secret = /^\/run\/secrets\/([a-z_]+)$/.exec(file)?.[1];
      expect({ app, file, mounted: prometheus.secrets?.includes(secret ?? '') }).toEqual({ app, file, mounted: true });
      expect(compose.secrets?.[secret!]).toEqual({ environment: 'METRICS_TOKEN' });
    }
    // Scaled frontends and workers are each their own target: found by DNS, not listed once.
    expect(jobs.frontend.dns_sd_configs).toBeDefined();
    expect(jobs.worker.dns_sd_configs).toBeDefined();
  });

  it('scrapes the native stack’s loopback listeners without a token, every frontend replica from the file make start writes', () => {
    const sut = yaml<PrometheusConfig>('deploy/prometheus/prometheus.native.yml');
    for (const app of ['injector', 'worker'] as const) {
      const job = sut.scrape_configs.find((config) => config.job_name === app)!;
      expect({ app, targets: targetsOf(job), authorization: job.authorization }).toEqual({
        app,
        targets: [`127.0.0.1:${defaultMetricsPort(app)}`],
        authorization: undefined,
      });
    }
    const frontend = sut.scrape_configs.find((config) => config.job_name === 'frontend')!;
    expect(frontend.authorization).toBeUndefined();
    // file_sd paths are relative to the configuration file; make start's stack is `dev`.
    const files = frontend.file_sd_configs!.flatMap((config) => config.files);
    expect(files.map((file) => path.relative(root, path.resolve(root, 'deploy/prometheus', file)))).toEqual([
      '.local/state/dev/scrape-targets/frontend.json',
    ]);
    expect(read('Makefile')).toMatch(/^STACK \?= dev$/m);
    expect(read('scripts/stack.sh')).toMatch(/"\$STATE\/scrape-targets\/frontend\.json"/);
    expect(read('scripts/env.sh')).toContain('FRONTEND_METRICS_PORT="${FRONTEND_METRICS_PORT:-$((9464 + offset))}"');
  });

  it('loads the alert rules in both configurations and mounts them where the config names them', () => {
    for (const file of ['prometheus.yml', 'prometheus.native.yml']) {
      const rules = yaml<PrometheusConfig>(`deploy/prometheus/${file}`).rule_files;
      expect({ file, rules }).toEqual({ file, rules: ['alerts.yml'] });
    }
    const prometheus = service('prometheus');
    const configDir = mountTarget(prometheus, './deploy/prometheus');
    expect(configDir).toBe('/etc/prometheus');
    expect(prometheus.command).toContain(`--config.file=${configDir}/prometheus.yml`);
  });

  it('provisions grafana with the prometheus service as the data source every dashboard panel uses', () => {
    const grafana = service('grafana');
    const provisioning = mountTarget(grafana, './deploy/grafana/provisioning');
    expect(provisioning).toBe('/etc/grafana/provisioning');
    const sources = yaml<{ datasources: { uid: string; type: string; url: string }[] }>(
      'deploy/grafana/provisioning/datasources/prometheus.yml',
    ).datasources;
    expect(sources).toEqual([expect.objectContaining({ type: 'prometheus', url: 'http://prometheus:9090' })]);
    expect(prometheusListens(service('prometheus'))).toBe(9090);

    const providers = yaml<{ providers: { options: { path: string } }[] }>('deploy/grafana/provisioning/dashboards/archiver.yml').providers;
    const dashboards = mountTarget(grafana, './deploy/grafana/dashboards');
    expect(providers.map((provider) => provider.options.path)).toEqual([dashboards]);
    expect(grafana.environment?.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH).toMatch(new RegExp(`^${dashboards}/[^/]+\\.json$`));

    const files = readdirSync(path.join(root, 'deploy/grafana/dashboards')).filter((file) => file.endsWith('.json'));
    expect(files).toContain(path.basename(grafana.environment!.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH));
    for (const file of files) {
      const dashboard = JSON.parse(read(`deploy/grafana/dashboards/${file}`)) as { panels: DashboardPanel[] };
      const uids = dashboard.panels
        .filter((panel) => panel.type !== 'row')
        .flatMap((panel) => [panel.datasource?.uid, ...(panel.targets ?? []).map((target) => target.datasource?.uid)]);
      expect(uids.length).toBeGreaterThan(0);
      expect(new Set(uids)).toEqual(new Set([sources[0].uid]));
    }
  });
});

interface DashboardPanel {
  type: string;
  datasource?: { uid?: string };
  targets?: { datasource?: { uid?: string } }[];
}

/** Prometheus' own port: its default, unless the command sets another. */
function prometheusListens(svc: Service): number {
  const flag = svc.command?.find((arg) => arg.startsWith('--web.listen-address='));
  return flag ? Number(flag.split(':').pop()) : 9090;
}

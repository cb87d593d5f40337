import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { loadStackSettings } from '@archiver/config';
import {
  ApiClient,
  AppProcess,
  closeAll,
  createFixtureRepos,
  GitHttpServerHandle,
  KeycloakTestClient,
  PrometheusHandle,
  promtool,
  settledArchive,
  startApp,
  startGitHttpServer,
  startPrometheus,
  waitFor,
} from '@archiver/testing';

const ROOT = path.resolve(__dirname, '../..');
const ALERTS = path.join(ROOT, 'deploy/prometheus/alerts.yml');
const DASHBOARDS = path.join(ROOT, 'deploy/grafana/dashboards/repository-archiver.json');
type AppName = 'frontend' | 'injector' | 'worker';

interface Expression {
  where: string;
  expr: string;
}

async function alertExpressions(): Promise<Expression[]> {
  const rules = YAML.parse(await readFile(ALERTS, 'utf8')) as { groups: { name: string; rules: { alert: string; expr: string }[] }[] };
  return rules.groups.flatMap((group) => group.rules.map((rule) => ({ where: `alert ${rule.alert}`, expr: rule.expr })));
}

interface Panel {
  title: string;
  targets?: { expr?: string; refId: string }[];
  panels?: Panel[];
}

/** Every query of the dashboard, with Grafana's interval variables as Prometheus durations. */
async function dashboardExpressions(): Promise<Expression[]> {
  const dashboard = JSON.parse(await readFile(DASHBOARDS, 'utf8')) as { panels: Panel[] };
  const panels = (list: Panel[]): Panel[] => list.flatMap((panel) => [panel, ...panels(panel.panels ?? [])]);
  return panels(dashboard.panels).flatMap((panel) =>
    (panel.targets ?? []).map((target) => ({
      where: `panel "${panel.title}" ${target.refId}`,
      expr: (target.expr ?? '').replace(/\$\{?__(rate_interval|interval|range)\}?/g, '1m'),
    })),
  );
}

/** Metric names an expression reads, from Prometheus' own syntax tree of it. */
function selectedNames(ast: unknown): string[] {
  if (Array.isArray(ast)) return ast.flatMap(selectedNames);
  if (!ast || typeof ast !== 'object') return [];
  const node = ast as { type?: string; name?: string; matchers?: { name: string; value: string; type: string }[] };
  if (node.type === 'vectorSelector' || node.type === 'matrixSelector') {
    const byMatcher = node.matchers?.find((m) => m.name === '__name__' && m.type === '=')?.value;
    return [node.name || byMatcher || '(a selector without a metric name)'];
  }
  return Object.values(node).flatMap(selectedNames);
}

/** Names a /metrics exposition defines (a histogram's series included), from its `# TYPE` lines. */
function exposedNames(exposition: string): string[] {
  return [...exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)].flatMap(([, name, type]) =>
    type === 'histogram'
      ? [name, `${name}_bucket`, `${name}_sum`, `${name}_count`]
      : type === 'summary'
        ? [name, `${name}_sum`, `${name}_count`]
        : [name],
  );
}

// A real Prometheus (built by `make deps`) scrapes the three apps after an archive completed and
// answers PromQL about it; every expression of deploy/prometheus/alerts.yml and of the Grafana
// dashboard is parsed and evaluated by it, checked by promtool, and reads only metrics the apps
// export — so renaming a metric without updating them fails here.
describe('Prometheus on the apps', () => {
  const stack = loadStackSettings();
  const keycloak = KeycloakTestClient.fromEnvironment();
  const apps = {} as Record<AppName, AppProcess>;
  let http: GitHttpServerHandle;
  let prometheus: PrometheusHandle;
  let scratch: string;

  beforeAll(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'archiver-prometheus-test-'));
    const fixtures = await createFixtureRepos(path.join(scratch, 'fixtures'));
    http = await startGitHttpServer({ root: fixtures.root });
    apps.frontend = await startApp('frontend');
    apps.injector = await startApp('injector');
    apps.worker = await startApp('worker', { ARCHIVER_WORK_DIR: path.join(scratch, 'work') });
    prometheus = await startPrometheus({
      targets: Object.fromEntries(Object.entries(apps).map(([name, app]) => [name, [new URL(app.metricsUrl).host]])),
      ruleFiles: [ALERTS],
    });
  });

  afterAll(async () => {
    try {
      await Promise.all(Object.values(apps).map((app) => app.stop()));
    } finally {
      await closeAll(prometheus?.stop(), http?.stop(), scratch ? rm(scratch, { recursive: true, force: true }) : undefined);
    }
  });

  it('scrapes all three apps and answers a PromQL query with the archive that completed', async () => {
    const api = new ApiClient(apps.frontend.url, await keycloak.passwordToken(stack.demo.username, stack.demo.password));
    const archive = await settledArchive(api, (await api.submit(http.url('trunk'))).id);
    expect(archive.status).toBe('completed');

    // This worker started for this test: its counter holds exactly the visit just made.
    const changed = await waitFor(
      'Prometheus to have scraped the completed visit',
      async () => {
        const result = await prometheus.query('sum(archiver_visits_total{job="worker",outcome="changed"})');
        return Number(result[0]?.value[1] ?? 0) >= 1 ? Number(result[0]!.value[1]) : undefined;
      },
      30_000,
      500,
    );
    expect(changed).toBe(1);
    const up = await waitFor('every target to be up', async () => {
      const result = await prometheus.query('up');
      return result.length === 3 && result.every((sample) => sample.value[1] === '1') ? result : undefined;
    });
    expect(up.map((sample) => sample.metric.job).sort()).toEqual(['frontend', 'injector', 'worker']);
    const completed = await prometheus.query('archiver_archives{status="completed"}');
    expect(completed).toEqual([expect.objectContaining({ metric: expect.objectContaining({ job: 'injector', app: 'injector' }) })]);
    expect(Number(completed[0].value[1])).toBeGreaterThanOrEqual(1);
  });

  it('accepts the alert rules and the configurations with promtool, which rejects a broken rule', async () => {
    const rules = await promtool(['check', 'rules', ALERTS]);
    expect(rules).toEqual({ code: 0, output: expect.stringMatching(/SUCCESS: \d+ rules found/) });
    const native = await promtool(['check', 'config', 'deploy/prometheus/prometheus.native.yml']);
    expect(native).toEqual({ code: 0, output: expect.stringContaining('SUCCESS') });
    // The compose configuration reads its token from a file that only exists in the container.
    const compose = (await readFile(path.join(ROOT, 'deploy/prometheus/prometheus.yml'), 'utf8')).replaceAll(
      '/run/secrets/metrics_token',
      path.join(scratch, 'metrics_token'),
    );
    await writeFile(path.join(scratch, 'metrics_token'), 'a-token-for-promtool-only');
    await writeFile(path.join(scratch, 'prometheus.yml'), compose);
    await writeFile(path.join(scratch, 'alerts.yml'), await readFile(ALERTS));
    const composed = await promtool(['check', 'config', path.join(scratch, 'prometheus.yml')]);
    expect(composed).toEqual({ code: 0, output: expect.stringContaining('SUCCESS') });

    const broken = (await readFile(ALERTS, 'utf8')).replace(
      'max(archiver_repositories_overdue) > 0',
      'max(archiver_repositories_overdue > 0',
    );
    expect(broken).not.toBe(await readFile(ALERTS, 'utf8'));
    await writeFile(path.join(scratch, 'broken.yml'), broken);
    expect((await promtool(['check', 'rules', path.join(scratch, 'broken.yml')])).code).not.toBe(0);
  });

  it('parses and evaluates every rule and dashboard expression, each reading only metrics the apps export', async () => {
    const expressions = [...(await alertExpressions()), ...(await dashboardExpressions())];
    expect(expressions.filter((e) => e.where.startsWith('alert')).length).toBeGreaterThanOrEqual(8);
    expect(expressions.filter((e) => e.where.startsWith('panel')).length).toBeGreaterThanOrEqual(25);
    for (const { where, expr } of expressions) expect({ where, expr }).toEqual({ where, expr: expect.not.stringMatching(/^\s*$|\$/) });

    const exported = new Set(['up']);
    for (const app of Object.values(apps)) {
      const response = await fetch(`${app.metricsUrl}/metrics`, { signal: AbortSignal.timeout(10_000) });
      for (const name of exposedNames(await response.text())) exported.add(name);
    }
    for (const name of await prometheus.seriesNames())
      if (!name.startsWith('scrape_') && !name.startsWith('prometheus_')) exported.add(name);

    const unknown: string[] = [];
    const failed: string[] = [];
    for (const { where, expr } of expressions) {
      const ast = await prometheus.parse(expr).catch((error: Error) => failed.push(`${where}: ${error.message}`));
      for (const name of selectedNames(ast)) if (!exported.has(name)) unknown.push(`${where}: ${name}`);
      await prometheus.query(expr).catch((error: Error) => failed.push(`${where}: ${error.message}`));
    }
    expect(failed).toEqual([]);
    expect(unknown).toEqual([]);
  });

  it('evaluates every alert rule without an error', async () => {
    const expected = (await alertExpressions()).map((e) => e.where.slice('alert '.length)).sort();
    type Rule = { name: string; health: string; lastError?: string; lastEvaluation: string };
    const rules = await waitFor('every rule to have been evaluated', async () => {
      const data = await prometheus.api<{ groups: { rules: Rule[] }[] }>('rules');
      const all = data.groups.flatMap((group) => group.rules);
      return all.length === expected.length && all.every((rule) => !rule.lastEvaluation.startsWith('0001')) ? all : undefined;
    });
    expect(rules.map((rule) => rule.name).sort()).toEqual(expected);
    expect(rules.filter((rule) => rule.health !== 'ok').map((rule) => `${rule.name}: ${rule.lastError}`)).toEqual([]);
  });
});

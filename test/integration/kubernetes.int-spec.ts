import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import YAML from 'yaml';
import { QueueName } from '../../libs/queue/src/queue.types';
import {
  checkAppSettings,
  checkNetworkPolicies,
  checkNoSecretLiterals,
  checkProbes,
  checkWorkloads,
  Manifest,
  requiredSettings,
} from './kubernetes/manifest-checks';

// deploy/kubernetes rendered by kustomize and validated by kubeconform against the schemas
// vendored in deploy/kubernetes/schemas (Kubernetes 1.35, KEDA 2.21): no cluster and no network,
// both tools built by `make deps`. Then the project's own rules (kubernetes/manifest-checks.ts).

const ROOT = path.resolve(__dirname, '../..');
const KUBERNETES = path.join(ROOT, 'deploy/kubernetes');
const KUSTOMIZE = path.join(ROOT, '.local/bin/kustomize');
const KUBECONFORM = path.join(ROOT, '.local/bin/kubeconform');
const SCHEMAS = path.join(KUBERNETES, 'schemas/{{ .ResourceKind }}{{ .KindSuffix }}.json');
const FIXTURES = path.join(KUBERNETES, 'test-fixtures');
const run = promisify(execFile);

// Every directory a person can `kubectl apply -k`: the production overlay and the examples.
const OVERLAYS = ['overlays', 'examples'].flatMap((group) =>
  readdirSync(path.join(KUBERNETES, group)).map((name) => path.join(group, name)),
);

interface Validation {
  code: number;
  summary: { valid: number; invalid: number; errors: number; skipped: number };
  messages: string[];
}

/** Validates a YAML stream given on stdin, as `kustomize build | kubeconform` would. */
async function kubeconform(input: string): Promise<Validation> {
  const argv = ['-strict', '-summary', '-output', 'json', '-schema-location', SCHEMAS];
  const child = execFile(KUBECONFORM, argv, { maxBuffer: 16 * 1024 ** 2 });
  child.stdin!.end(input);
  let stdout = '';
  child.stdout!.on('data', (chunk: string) => (stdout += chunk));
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)));
  const report = JSON.parse(stdout) as { summary: Validation['summary']; resources: { msg?: string }[] };
  return { code, summary: report.summary, messages: report.resources.map((r) => r.msg ?? '') };
}

async function render(overlay: string): Promise<{ yaml: string; manifests: Manifest[] }> {
  const { stdout } = await run(KUSTOMIZE, ['build', path.join(KUBERNETES, overlay)], { maxBuffer: 16 * 1024 ** 2 });
  const manifests = YAML.parseAllDocuments(stdout).map((doc) => doc.toJS() as Manifest);
  return { yaml: stdout, manifests };
}

describe('Kubernetes manifests (deploy/kubernetes)', () => {
  beforeAll(() => {
    for (const tool of [KUSTOMIZE, KUBECONFORM]) {
      if (!existsSync(tool)) throw new Error(`${tool} is missing: run make deps (scripts/deps.sh builds it)`);
    }
  });

  it('has the overlays the README documents', () => {
    expect(OVERLAYS.sort()).toEqual(['examples/in-cluster', 'examples/in-cluster-hpa', 'overlays/production']);
  });

  it('builds from the repository alone: no kustomization names a remote resource', () => {
    const kustomizations = ['deploy/keycloak', 'deploy/docker', ...OVERLAYS.map((o) => `deploy/kubernetes/${o}`)]
      .concat(
        ['base', ...readdirSync(path.join(KUBERNETES, 'components')).map((c) => `components/${c}`)].map((d) => `deploy/kubernetes/${d}`),
      )
      .map((dir) => YAML.parse(readFileSync(path.join(ROOT, dir, 'kustomization.yaml'), 'utf8')) as Manifest);
    const references = kustomizations.flatMap((k) => [...(k.resources ?? []), ...(k.components ?? [])] as string[]);
    expect(references.length).toBeGreaterThan(10);
    expect(references.filter((ref) => /^[a-z]+:\/\/|^git@|\?ref=/i.test(ref))).toEqual([]);
  });

  describe.each(OVERLAYS)('%s', (overlay) => {
    let rendered: { yaml: string; manifests: Manifest[] };
    beforeAll(async () => {
      rendered = await render(overlay);
    });

    it('renders, and every object is valid against the vendored Kubernetes and KEDA schemas', async () => {
      const result = await kubeconform(rendered.yaml);
      expect(result.messages.filter(Boolean)).toEqual([]);
      expect(result).toMatchObject({ code: 0, summary: { valid: rendered.manifests.length, invalid: 0, errors: 0, skipped: 0 } });
      expect(rendered.manifests.length).toBeGreaterThan(10);
    });

    it('runs every container with limits, a pinned image and no root', () => {
      expect(checkWorkloads(rendered.manifests)).toEqual([]);
    });

    it('probes every long-running pod, the apps on /health', () => {
      expect(checkProbes(rendered.manifests)).toEqual([]);
    });

    it('gives each app every setting it requires', () => {
      expect(checkAppSettings(rendered.manifests)).toEqual([]);
    });

    it('contains no secret value', () => {
      expect(checkNoSecretLiterals(rendered.manifests)).toEqual([]);
    });

    it('denies by default and lets only the worker reach the internet', () => {
      expect(checkNetworkPolicies(rendered.manifests)).toEqual([]);
    });

    it('runs the migrations as a Job of the migrate image, and scales the worker on the archive queue', () => {
      const job = rendered.manifests.find((m) => m.kind === 'Job');
      expect(job?.spec.template.spec.containers[0].image).toMatch(/repository-archiver\/migrate:/);
      const scalers = rendered.manifests.filter((m) => m.kind === 'ScaledObject' || m.kind === 'HorizontalPodAutoscaler');
      expect(scalers).toHaveLength(1);
      const [scaler] = scalers;
      if (scaler.kind === 'ScaledObject') {
        // BullMQ's default prefix `bull` (libs/queue sets none) and its list of jobs ready to run.
        expect(scaler.spec.triggers[0].metadata.listName).toBe(`bull:${QueueName.Archive}:wait`);
        expect(scaler.spec.scaleTargetRef.name).toBe('worker');
      } else {
        expect(scaler.spec.metrics[0].external.metric.selector.matchLabels).toEqual({ queue: QueueName.Archive, state: 'waiting' });
      }
    });
  });

  it('imports the repository realm into the in-cluster Keycloak', async () => {
    const { manifests } = await render('examples/in-cluster');
    const realm = manifests.find((m) => m.kind === 'ConfigMap' && m.metadata.name.startsWith('keycloak-realm'));
    expect(realm?.data['archiver-realm.json']).toBe(readFileSync(path.join(ROOT, 'deploy/keycloak/archiver-realm.json'), 'utf8'));
    const keycloak = manifests.find((m) => m.kind === 'Deployment' && m.metadata.name === 'keycloak');
    expect(keycloak?.spec.template.spec.volumes).toContainEqual({ name: 'realm', configMap: { name: realm?.metadata.name } });
    // --import-realm fills the realm's ${NAME} placeholders from the environment.
    const container = keycloak?.spec.template.spec.containers[0];
    const placeholders = [...String(realm?.data['archiver-realm.json']).matchAll(/\$\{([A-Z0-9_]+)\}/g)].map((match) => match[1]);
    expect(placeholders.length).toBeGreaterThan(0);
    for (const name of placeholders) expect(container.env.map((e: Manifest) => e.name)).toContain(name);
    // The release the native stack and compose run (scripts/env.sh).
    const version = /^KEYCLOAK_VERSION=(\S+)$/m.exec(readFileSync(path.join(ROOT, 'scripts/env.sh'), 'utf8'))?.[1];
    expect(container.image).toBe(`quay.io/keycloak/keycloak:${version}`);
  });

  // The validator and the checks must be able to fail: each broken fixture is rejected.
  it.each(readdirSync(FIXTURES).filter((f) => f.endsWith('.yaml')))('kubeconform rejects test-fixtures/%s', async (fixture) => {
    const result = await kubeconform(readFileSync(path.join(FIXTURES, fixture), 'utf8'));
    expect(result.code).not.toBe(0);
    expect(result.summary.invalid + result.summary.errors).toBe(1);
  });

  describe('the project checks reject', () => {
    let production: Manifest[];
    const mutated = (change: (manifests: Manifest[]) => void) => {
      const copy = structuredClone(production);
      change(copy);
      return copy;
    };
    const deployment = (manifests: Manifest[], name: string) =>
      manifests.find((m) => m.kind === 'Deployment' && m.metadata.name === name)!.spec.template.spec;
    beforeAll(async () => {
      production = (await render('overlays/production')).manifests;
    });

    it.each(['frontend', 'injector', 'worker'])('%s without a probe, a limit, a pinned image or non-root', (app) => {
      const problems = (change: (pod: Manifest) => void) => {
        const manifests = mutated((m) => change(deployment(m, app)));
        return [...checkWorkloads(manifests), ...checkProbes(manifests)];
      };
      expect(problems((pod) => delete pod.containers[0].livenessProbe)).toContainEqual(expect.stringContaining('livenessProbe'));
      expect(problems((pod) => (pod.containers[0].readinessProbe.httpGet.path = '/'))).toContainEqual(expect.stringContaining('/health'));
      expect(problems((pod) => delete pod.containers[0].resources.limits.memory)).toContainEqual(expect.stringContaining('memory limit'));
      expect(problems((pod) => (pod.containers[0].image = `registry.example.com/${app}:latest`))).toContainEqual(
        expect.stringContaining('not pinned'),
      );
      expect(problems((pod) => (pod.containers[0].image = `registry.example.com/${app}`))).toContainEqual(
        expect.stringContaining('not pinned'),
      );
      expect(problems((pod) => (pod.securityContext.runAsUser = 0))).toContainEqual(expect.stringContaining('root'));
      expect(problems((pod) => delete pod.securityContext.runAsNonRoot)).toContainEqual(expect.stringContaining('root'));
      expect(problems((pod) => (pod.containers[0].securityContext.readOnlyRootFilesystem = false))).toContainEqual(
        expect.stringContaining('writable'),
      );
    });

    it.each(requiredSettings())('an app without %s, a setting it requires', (setting) => {
      const manifests = mutated((m) => {
        const container = deployment(m, 'injector').containers[0];
        container.env = container.env.filter((e: Manifest) => e.name !== setting);
        for (const c of m.filter((x) => x.kind === 'ConfigMap')) delete c.data[setting];
      });
      expect(checkAppSettings(manifests)).toContainEqual(`Deployment/injector does not set ${setting}, which the app requires`);
    });

    it('a $(VAR) reference to a setting that is not defined', () => {
      const manifests = mutated((m) => deployment(m, 'worker').containers[0].env.push({ name: 'X', value: '$(NOWHERE)' }));
      expect(checkAppSettings(manifests)).toContainEqual(expect.stringContaining('$(NOWHERE)'));
    });

    it.each([
      ['a Secret object', (m: Manifest[]) => m.push({ kind: 'Secret', metadata: { name: 's' }, stringData: { A: 'b' } })],
      [
        'a password as a literal',
        (m: Manifest[]) => deployment(m, 'frontend').containers[0].env.push({ name: 'REDIS_PASSWORD', value: 'hunter22' }),
      ],
      ['a key in a ConfigMap', (m: Manifest[]) => (m.find((x) => x.kind === 'ConfigMap')!.data.MINIO_SECRET_KEY = 'abcdefgh')],
      [
        'a password inside a URL',
        (m: Manifest[]) => deployment(m, 'worker').containers[0].env.push({ name: 'DATABASE_URL', value: 'postgresql://a:hunter22@db/a' }),
      ],
      [
        'a password inside a ConfigMap URL',
        (m: Manifest[]) => (m.find((x) => x.kind === 'ConfigMap')!.data.REDIS_URL = 'redis://:hunter22@redis:6379'),
      ],
    ])('%s', (_, change) => {
      expect(checkNoSecretLiterals(mutated(change))).not.toEqual([]);
    });

    it.each([
      [
        'the frontend reaching the internet',
        (m: Manifest[]) =>
          (m.find((x) => x.metadata.name === 'worker-internet-egress')!.spec.podSelector.matchLabels['app.kubernetes.io/name'] =
            'frontend'),
      ],
      [
        'the worker reaching private addresses',
        (m: Manifest[]) => (m.find((x) => x.metadata.name === 'worker-internet-egress')!.spec.egress[0].to[0].ipBlock.except = []),
      ],
      [
        'no default deny',
        (m: Manifest[]) =>
          m.splice(
            m.findIndex((x) => x.metadata.name === 'default-deny'),
            1,
          ),
      ],
      [
        'an injector open to every pod',
        (m: Manifest[]) =>
          m.push({
            kind: 'NetworkPolicy',
            metadata: { name: 'x' },
            spec: { podSelector: { matchLabels: { 'app.kubernetes.io/name': 'injector' } }, ingress: [{}] },
          }),
      ],
    ])('%s', (_, change) => {
      expect(checkNetworkPolicies(mutated(change))).not.toEqual([]);
    });
  });
});

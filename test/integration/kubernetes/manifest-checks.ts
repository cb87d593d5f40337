import { configSchema } from '@archiver/config';

// The project's own rules for the rendered manifests of deploy/kubernetes, on top of what the
// Kubernetes schemas say. Each check returns the problems it finds as sentences naming the
// object, so a failing test tells what to fix; an empty list means the rule holds.

/* eslint-disable @typescript-eslint/no-explicit-any -- rendered manifests are untyped YAML */
export type Manifest = Record<string, any>;

export const APP_PORTS = { frontend: 3000, injector: 3001, worker: 3002 } as const;
const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'Job']);
// Names of settings that hold a secret: they may only come from a Secret (secretKeyRef).
const SECRET_NAME = /(PASSWORD|SECRET|TOKEN|_KEY|_KEYS|_AUTH|CREDENTIAL)/;
// user:password@ in a URL whose password is not a $(VAR) reference.
const URL_WITH_LITERAL_PASSWORD = /:\/\/[^/\s:@]*:(?!\$\([A-Z0-9_]+\)@)[^/\s@]+@/;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

const id = (m: Manifest) => `${m.kind}/${m.metadata?.name}`;
const podSpec = (m: Manifest): Manifest | undefined => (WORKLOAD_KINDS.has(m.kind) ? m.spec?.template?.spec : undefined);
const containersOf = (m: Manifest): Manifest[] => [...(podSpec(m)?.initContainers ?? []), ...(podSpec(m)?.containers ?? [])];

/** Settings libs/config refuses to start without (no default, not optional). */
export function requiredSettings(): string[] {
  return Object.entries(configSchema.shape)
    .filter(([, schema]) => !schema.safeParse(undefined).success)
    .map(([name]) => name);
}

/** Every container: CPU and memory requests and limits, a pinned image, no root, no escalation. */
export function checkWorkloads(manifests: Manifest[]): string[] {
  const problems: string[] = [];
  for (const m of manifests.filter((x) => podSpec(x))) {
    const pod = podSpec(m)!;
    for (const c of containersOf(m)) {
      const where = `${id(m)} container ${c.name}`;
      for (const kind of ['requests', 'limits'])
        for (const resource of ['cpu', 'memory'])
          if (c.resources?.[kind]?.[resource] === undefined) problems.push(`${where} has no ${resource} ${kind.slice(0, -1)}`);
      const image = String(c.image ?? '');
      const tag = image.includes('@') ? 'digest' : image.slice(image.lastIndexOf('/') + 1).split(':')[1];
      if (!tag || tag === 'latest') problems.push(`${where} image ${image} is not pinned to a tag or digest`);
      const nonRoot = c.securityContext?.runAsNonRoot ?? pod.securityContext?.runAsNonRoot;
      const user = c.securityContext?.runAsUser ?? pod.securityContext?.runAsUser;
      if (nonRoot !== true || user === 0) problems.push(`${where} may run as root (set runAsNonRoot: true and a non-zero runAsUser)`);
      if (c.securityContext?.allowPrivilegeEscalation !== false) problems.push(`${where} does not set allowPrivilegeEscalation: false`);
      if (!(c.securityContext?.capabilities?.drop ?? []).includes('ALL')) problems.push(`${where} does not drop all capabilities`);
    }
  }
  return problems;
}

/** Long-running pods: readiness and liveness probes; the apps' on /health of their HTTP port, read-only root. */
export function checkProbes(manifests: Manifest[]): string[] {
  const problems: string[] = [];
  for (const m of manifests.filter((x) => x.kind === 'Deployment' || x.kind === 'StatefulSet')) {
    for (const c of podSpec(m)!.containers ?? []) {
      const where = `${id(m)} container ${c.name}`;
      for (const probe of ['readinessProbe', 'livenessProbe']) if (!c[probe]) problems.push(`${where} has no ${probe}`);
      const app = m.metadata.name as keyof typeof APP_PORTS;
      if (!(app in APP_PORTS)) continue;
      const http = (c.ports ?? []).find((p: Manifest) => p.name === 'http');
      if (http?.containerPort !== APP_PORTS[app]) problems.push(`${where} does not expose the app's port ${APP_PORTS[app]} as "http"`);
      for (const probe of ['readinessProbe', 'livenessProbe']) {
        const get = c[probe]?.httpGet;
        if (get?.path !== '/health' || (get.port !== 'http' && get.port !== APP_PORTS[app])) {
          problems.push(`${where} ${probe} does not GET /health on the app's port`);
        }
      }
      if (c.securityContext?.readOnlyRootFilesystem !== true) problems.push(`${where} root filesystem is writable`);
    }
  }
  return problems;
}

/** The environment a container gets: its env entries (in order) after every envFrom ConfigMap's keys. */
function environmentOf(c: Manifest, manifests: Manifest[], where: string, problems: string[]): Map<string, Manifest> {
  const env = new Map<string, Manifest>();
  for (const source of c.envFrom ?? []) {
    const name = source.configMapRef?.name;
    const configMap = manifests.find((x) => x.kind === 'ConfigMap' && x.metadata.name === name);
    if (!configMap) problems.push(`${where} reads ConfigMap ${name}, which the overlay does not contain`);
    for (const [key, value] of Object.entries(configMap?.data ?? {})) env.set(key, { name: key, value });
  }
  for (const entry of c.env ?? []) {
    // $(VAR) only expands names defined before it; anything else reaches the app verbatim.
    for (const [, ref] of String(entry.value ?? '').matchAll(/\$\(([A-Za-z0-9_]+)\)/g)) {
      if (!env.has(ref)) problems.push(`${where} ${entry.name} refers to $(${ref}), which is not defined before it`);
    }
    env.set(entry.name, entry);
  }
  return env;
}

/** The three apps get every setting libs/config requires, and a metrics token when metrics leave loopback. */
export function checkAppSettings(manifests: Manifest[]): string[] {
  const problems: string[] = [];
  const required = requiredSettings();
  for (const app of Object.keys(APP_PORTS)) {
    const deployment = manifests.find((m) => m.kind === 'Deployment' && m.metadata.name === app);
    if (!deployment) {
      problems.push(`Deployment/${app} is missing`);
      continue;
    }
    const container = podSpec(deployment)!.containers[0];
    const where = `Deployment/${app}`;
    const env = environmentOf(container, manifests, where, problems);
    for (const name of required) if (!env.has(name)) problems.push(`${where} does not set ${name}, which the app requires`);
    const metricsHost = env.get('METRICS_HOST')?.value ?? '127.0.0.1';
    if (!LOOPBACK.has(metricsHost) && !env.has('METRICS_TOKEN')) {
      problems.push(`${where} serves metrics on ${metricsHost} without METRICS_TOKEN`);
    }
  }
  return problems;
}

/** No secret value in the manifests: no Secret objects, secret-named settings only by secretKeyRef, no password in a URL. */
export function checkNoSecretLiterals(manifests: Manifest[]): string[] {
  const problems: string[] = [];
  for (const m of manifests) {
    if (m.kind === 'Secret') problems.push(`${id(m)} carries secret values in the repository; reference a Secret the operator creates`);
    if (m.kind === 'ConfigMap') {
      for (const [key, value] of Object.entries(m.data ?? {})) {
        if (SECRET_NAME.test(key)) problems.push(`${id(m)} holds ${key}, a secret, in a ConfigMap`);
        if (URL_WITH_LITERAL_PASSWORD.test(String(value))) problems.push(`${id(m)} ${key} has a password in a URL`);
      }
    }
    for (const c of containersOf(m)) {
      for (const entry of c.env ?? []) {
        const where = `${id(m)} container ${c.name} ${entry.name}`;
        if (SECRET_NAME.test(entry.name) && !entry.valueFrom?.secretKeyRef) problems.push(`${where} is a secret not read from a Secret`);
        if (URL_WITH_LITERAL_PASSWORD.test(String(entry.value ?? ''))) problems.push(`${where} has a literal password in a URL`);
      }
    }
  }
  return problems;
}

/** Default deny; only the worker may reach the internet, and not private ranges; only the frontend takes outside traffic. */
export function checkNetworkPolicies(manifests: Manifest[]): string[] {
  const problems: string[] = [];
  const policies = manifests.filter((m) => m.kind === 'NetworkPolicy');
  const denyAll = policies.find(
    (p) => Object.keys(p.spec.podSelector ?? {}).length === 0 && !p.spec.ingress && !p.spec.egress && p.spec.policyTypes?.length === 2,
  );
  if (!denyAll) problems.push('no default-deny NetworkPolicy (empty podSelector, Ingress and Egress, no rules)');
  for (const p of policies) {
    const selects = p.spec.podSelector?.matchLabels ?? {};
    const onlyWorker = Object.keys(selects).length === 1 && selects['app.kubernetes.io/name'] === 'worker';
    for (const rule of p.spec.egress ?? []) {
      for (const peer of rule.to ?? []) {
        const cidr = peer.ipBlock?.cidr;
        if (cidr !== '0.0.0.0/0' && cidr !== '::/0') continue;
        if (!onlyWorker) problems.push(`${id(p)} lets pods other than the worker reach the internet`);
        const except: string[] = peer.ipBlock.except ?? [];
        const mustExclude =
          cidr === '0.0.0.0/0'
            ? ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16', '127.0.0.0/8']
            : ['fc00::/7', 'fe80::/10', '::1/128'];
        for (const range of mustExclude) if (!except.includes(range)) problems.push(`${id(p)} lets the worker reach ${range}`);
      }
      if (!rule.to) problems.push(`${id(p)} has an egress rule to every destination`);
    }
    for (const rule of p.spec.ingress ?? []) {
      if (rule.from) continue;
      const target = selects['app.kubernetes.io/name'];
      if (target !== 'frontend' && target !== 'keycloak')
        problems.push(`${id(p)} accepts traffic from anywhere for ${target ?? 'every pod'}`);
    }
  }
  return problems;
}

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { configSchema } from './config.schema';

// No Docker engine runs where the tests run, so the Compose stack is checked statically: its
// shape, that it feeds the apps exactly the settings libs/config validates, and that it pins
// the same versions as the native stack (scripts/env.sh).

const root = path.resolve(__dirname, '../../..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');

type Env = Record<string, string>;
interface Service {
  image?: string;
  build?: { context: string; dockerfile?: string; target?: string };
  command?: string | string[];
  environment?: Record<string, string | number | boolean | null>;
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test?: string[] | string; disable?: boolean };
  restart?: string;
  container_name?: string;
  secrets?: string[];
}

const apps = ['frontend', 'injector', 'worker'] as const;
const monitoring = ['prometheus', 'grafana'];
const longRunning = ['postgres', 'redis', 'minio', 'keycloak', ...apps, 'haproxy', ...monitoring];
const oneShot = ['migrate'];
// Variables an app service may set beyond libs/config's schema (read by Node itself).
const nodeRuntimeVariables = ['NODE_OPTIONS', 'TZ'];
const secretName = /PASSWORD|SECRET|ACCESS_KEY|ROOT_USER|REDISCLI_AUTH|TOKEN/;
const requiredInterpolation = /^\$\{[A-Z][A-Z0-9_]*:\?[^}]*\}$/;

/** Compose's own `${NAME}`, `${NAME:-default}`, `${NAME-default}`, `${NAME:?err}`, `${NAME?err}`, `$$`. */
function interpolate(value: string, env: Env): string {
  return value.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}/g, (match, name: string, op?: string, arg?: string) => {
    if (match === '$$') return '$';
    const unset = env[name] === undefined || (op?.startsWith(':') === true && env[name] === '');
    if (op?.endsWith('?') && unset) throw new Error(`${name} is required: ${arg}`);
    if (op?.endsWith('-') && unset) return arg ?? '';
    return env[name] ?? '';
  });
}

function parseEnvFile(text: string): Env {
  const env: Env = {};
  for (const line of text.split('\n')) {
    const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (match) env[match[1]] = match[2];
  }
  return env;
}

function pinnedVersions(): Env {
  const versions: Env = {};
  for (const match of read('scripts/env.sh').matchAll(/^([A-Z_]+_VERSION)=(\S+)$/gm)) versions[match[1]] = match[2];
  return versions;
}

/** `ARG NAME=value` defaults of a Dockerfile (every occurrence: an ARG is redeclared per stage). */
function argDefaults(dockerfile: string, name: string): string[] {
  return [...read(dockerfile).matchAll(new RegExp(`^ARG ${name}=(\\S+)$`, 'gm'))].map((match) => match[1]);
}

/** Dockerfile stages by name, each with the text up to the next FROM. */
function stages(dockerfile: string): Map<string, { from: string; body: string }> {
  const result = new Map<string, { from: string; body: string }>();
  const parts = read(dockerfile)
    .split(/^(?=FROM )/m)
    .slice(1);
  for (const part of parts) {
    const match = /^FROM (\S+)(?: AS (\S+))?/.exec(part);
    if (match?.[2]) result.set(match[2], { from: match[1], body: part });
  }
  return result;
}

const requiredSettings = Object.keys(configSchema.shape).filter(
  (key) => !configSchema.shape[key as keyof typeof configSchema.shape].safeParse(undefined).success,
);

describe('docker-compose.yml', () => {
  const text = read('docker-compose.yml');
  const sut = YAML.parse(text, { merge: true }) as {
    services: Record<string, Service>;
    volumes?: Record<string, unknown>;
    secrets?: Record<string, { environment?: string; file?: string }>;
  };
  const service = (name: string) => sut.services[name];
  const rawEnv = (name: string): Env =>
    Object.fromEntries(Object.entries(service(name).environment ?? {}).map(([key, value]) => [key, String(value ?? '')]));

  let tmp: string;
  let composeEnv: Env;
  beforeAll(() => {
    // The env file `make build` uses, as scripts/compose-env.sh writes it.
    tmp = mkdtempSync(path.join(os.tmpdir(), 'compose-env-'));
    const run = spawnSync('bash', [path.join(root, 'scripts/compose-env.sh'), path.join(tmp, 'compose.env')], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    composeEnv = parseEnvFile(readFileSync(path.join(tmp, 'compose.env'), 'utf8'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('has the stack’s services, each with an image or a build', () => {
    expect(Object.keys(sut.services).sort()).toEqual([...longRunning, ...oneShot].sort());
    for (const [name, svc] of Object.entries(sut.services))
      expect({ name, source: svc.image ?? svc.build?.context }).toEqual({ name, source: expect.any(String) });
  });

  it('gives every long-running service a health check and a restart policy; migrate runs once', () => {
    for (const name of longRunning) {
      expect({ name, test: service(name).healthcheck?.test, disabled: service(name).healthcheck?.disable }).toEqual({
        name,
        test: expect.anything(),
        disabled: undefined,
      });
      expect({ name, restart: service(name).restart }).toEqual({ name, restart: 'unless-stopped' });
    }
    expect(service('migrate').restart).toBe('no');
  });

  it('builds the apps and migrate from deploy/Dockerfile targets that exist, running the built entry files', () => {
    const targets = stages('deploy/Dockerfile');
    const nest = JSON.parse(read('nest-cli.json')) as { projects: Record<string, { entryFile: string }> };
    for (const name of [...apps, 'migrate']) {
      expect(service(name).build).toEqual({ context: '.', dockerfile: 'deploy/Dockerfile', target: name });
      expect(targets.has(name)).toBe(true);
    }
    for (const app of apps) {
      const stage = targets.get(app)!;
      expect(stage.from).toBe('runtime');
      expect(stage.body).toMatch(/^HEALTHCHECK /m);
      expect(stage.body).toContain(`"dist/apps/${app}/${nest.projects[app].entryFile}.js"`);
    }
    const runtime = targets.get('runtime')!.body;
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).toMatch(/apt-get install -y --no-install-recommends .*\bgit\b/);
    expect(runtime).toMatch(/^ENTRYPOINT \["\/usr\/bin\/tini", "--"\]$/m);
    expect(targets.get('deps')!.body).toMatch(/^COPY package\.json package-lock\.json \.\/$/m);
    // keycloak-connect's optional chromedriver must not reach the runtime image.
    expect(targets.get('runtime')!.body).toMatch(/--from=prod-deps /);
    expect(targets.get('prod-deps')!.body).toMatch(/^RUN npm prune --omit=dev --omit=optional$/m);
    expect(read('deploy/Dockerfile').replace(/^\s*#.*$/gm, '')).not.toMatch(/\bnpm ci\b/);
    expect(targets.get('migrate')!.body).toContain('"prisma", "migrate", "deploy"');
    expect(service('minio').build).toEqual({ context: 'deploy/minio', dockerfile: 'Dockerfile' });
  });

  it('pins the same versions as scripts/env.sh', () => {
    const versions = pinnedVersions();
    expect(Object.keys(versions)).toEqual(expect.arrayContaining(['NODE_VERSION', 'MINIO_VERSION', 'MC_VERSION', 'KEYCLOAK_VERSION']));
    expect(service('keycloak').image).toBe(`quay.io/keycloak/keycloak:${versions.KEYCLOAK_VERSION}`);
    expect(service('prometheus').image).toBe(`prom/prometheus:v${versions.PROMETHEUS_VERSION}`);
    expect(service('grafana').image).toMatch(/^grafana\/grafana:\d+\.\d+\.\d+$/);
    expect(argDefaults('deploy/Dockerfile', 'NODE_VERSION')).toEqual([versions.NODE_VERSION]);
    for (const name of ['MINIO_VERSION', 'MC_VERSION']) {
      const defaults = argDefaults('deploy/minio/Dockerfile', name);
      expect(defaults.length).toBeGreaterThan(0);
      expect(new Set(defaults)).toEqual(new Set([versions[name]]));
    }
    expect(read('deploy/minio/Dockerfile')).toMatch(/go install "github\.com\/minio\/minio@\$\{MINIO_VERSION\}"/);
    expect(read('deploy/minio/Dockerfile')).toMatch(/go install "github\.com\/minio\/mc@\$\{MC_VERSION\}"/);
  });

  it('derives the required settings from libs/config', () => {
    expect(requiredSettings).toEqual(
      expect.arrayContaining([
        'DATABASE_URL',
        'REDIS_URL',
        'MINIO_ENDPOINT',
        'MINIO_ACCESS_KEY',
        'MINIO_SECRET_KEY',
        'MINIO_CONSOLE_URL',
        'KEYCLOAK_URL',
      ]),
    );
  });

  it.each(apps)('sets every required setting for %s, names only known ones, and they validate', (app) => {
    const env = rawEnv(app);
    expect(requiredSettings.filter((key) => !(key in env))).toEqual([]);
    const known = new Set([...Object.keys(configSchema.shape), ...nodeRuntimeVariables]);
    expect(Object.keys(env).filter((key) => !known.has(key))).toEqual([]);
    const resolved = Object.fromEntries(Object.entries(env).map(([key, value]) => [key, interpolate(value, composeEnv)]));
    const parsed = configSchema.safeParse(resolved);
    expect(parsed.error?.issues ?? []).toEqual([]);
    expect(resolved).toMatchObject({ HTTP_HOST: '0.0.0.0', NODE_ENV: 'production', KEYCLOAK_INTERNAL_URL: 'http://keycloak:8080' });
    expect(resolved.KEYCLOAK_URL).toBe(interpolate(rawEnv('keycloak').KC_HOSTNAME, composeEnv));
  });

  it('starts each app after a successful migration and healthy dependencies', () => {
    expect(service('migrate').depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
    expect(service('keycloak').depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
    for (const app of apps) {
      const deps = service(app).depends_on ?? {};
      expect(deps.migrate).toEqual({ condition: 'service_completed_successfully' });
      expect(Object.keys(deps)).toEqual(expect.arrayContaining(['postgres', 'redis']));
      for (const [dep, { condition }] of Object.entries(deps)) {
        if (dep !== 'migrate') expect({ dep, condition }).toEqual({ dep, condition: 'service_healthy' });
      }
    }
  });

  it('lets the worker scale: no container_name, no fixed host port', () => {
    expect(service('worker').container_name).toBeUndefined();
    expect(service('worker').ports).toBeUndefined();
  });

  it('publishes only haproxy (in front of the frontends), keycloak, minio, prometheus and grafana, on 127.0.0.1 by default', () => {
    const published = Object.fromEntries(Object.entries(sut.services).flatMap(([name, svc]) => (svc.ports ? [[name, svc.ports]] : [])));
    expect(Object.keys(published).sort()).toEqual(['grafana', 'haproxy', 'keycloak', 'minio', 'prometheus']);
    for (const port of Object.values(published).flat()) expect(interpolate(port, {})).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
    expect(published.haproxy.map((port) => interpolate(port, {}))).toEqual(['127.0.0.1:3000:3000']);
    expect(published.keycloak.map((port) => interpolate(port, {}))).toEqual(['127.0.0.1:8080:8080']);
    expect(published.minio.map((port) => interpolate(port, {}))).toEqual(['127.0.0.1:9000:9000', '127.0.0.1:9001:9001']);
    expect(published.prometheus.map((port) => interpolate(port, {}))).toEqual(['127.0.0.1:9090:9090']);
    expect(published.grafana.map((port) => interpolate(port, {}))).toEqual(['127.0.0.1:3030:3000']);
  });

  it('writes no secret into the file: each comes from the env file', () => {
    for (const [name, svc] of Object.entries(sut.services)) {
      for (const [key, value] of Object.entries(svc.environment ?? {})) {
        const text = String(value ?? '');
        if (secretName.test(key)) expect({ name, key, text }).toEqual({ name, key, text: expect.stringMatching(requiredInterpolation) });
        const password = /^[a-z]+:\/\/[^:/@]*:([^@]*)@/.exec(text)?.[1];
        if (password !== undefined)
          expect({ name, key, password }).toEqual({ name, key, password: expect.stringMatching(requiredInterpolation) });
      }
    }
  });

  it('needs no variable that scripts/compose-env.sh does not write, unless it has a default', () => {
    const strings = (node: unknown): string[] =>
      typeof node === 'string' ? [node] : node && typeof node === 'object' ? Object.values(node).flatMap(strings) : [];
    const unmet = [
      ...strings(sut)
        .join('\n')
        .matchAll(/(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-?])?/g),
    ]
      .filter(([, name, op]) => !op?.endsWith('-') && !(name in composeEnv))
      .map(([, name]) => name);
    expect(unmet).toEqual([]);
    // Secrets made from a variable read it from the same environment.
    const fromEnvironment = Object.values(sut.secrets ?? {}).flatMap((secret) => (secret.environment ? [secret.environment] : []));
    expect(fromEnvironment.filter((name) => !(name in composeEnv))).toEqual([]);
  });

  it('runs redis with AOF, noeviction and a password', () => {
    const command = [service('redis').command ?? []].flat().join(' ');
    expect(command).toMatch(/--appendonly yes/);
    expect(command).toMatch(/--maxmemory-policy noeviction/);
    expect(command).toMatch(/requirepass \$\$REDIS_PASSWORD/);
  });

  it('imports the realm into keycloak with every placeholder the realm file uses', () => {
    expect(service('keycloak').command).toEqual(['start', '--import-realm']);
    expect(service('keycloak').volumes).toContain('./deploy/keycloak/archiver-realm.json:/opt/keycloak/data/import/archiver-realm.json:ro');
    const placeholders = [...read('deploy/keycloak/archiver-realm.json').matchAll(/\$\{([A-Z0-9_]+)\}/g)].map((match) => match[1]);
    expect(placeholders.length).toBeGreaterThan(0);
    expect(placeholders.filter((name) => !(name in rawEnv('keycloak')))).toEqual([]);
    expect(rawEnv('keycloak')).toMatchObject({ KC_DB: 'postgres', KC_HEALTH_ENABLED: 'true', KC_HOSTNAME_BACKCHANNEL_DYNAMIC: 'true' });
  });

  it('creates the keycloak role and database in postgres, and keeps data in named volumes', () => {
    expect(service('postgres').volumes).toContain('./deploy/docker/postgres-init.sh:/docker-entrypoint-initdb.d/10-archiver.sh:ro');
    expect(read('deploy/docker/postgres-init.sh')).toMatch(/CREATE DATABASE keycloak OWNER keycloak/);
    const named = Object.values(sut.services)
      .flatMap((svc) => svc.volumes ?? [])
      .map((volume) => volume.split(':')[0])
      .filter((source) => !source.startsWith('.') && !source.startsWith('/'));
    expect(named.length).toBeGreaterThan(0);
    expect(named.filter((source) => !(source in (sut.volumes ?? {})))).toEqual([]);
    for (const bind of Object.values(sut.services)
      .flatMap((svc) => svc.volumes ?? [])
      .filter((volume) => volume.startsWith('./'))) {
      expect(existsSync(path.join(root, bind.split(':')[0]))).toBe(true);
    }
  });

  it('keeps host state out of the Docker build context', () => {
    const ignored = read('.dockerignore').split('\n');
    expect(ignored).toEqual(expect.arrayContaining(['.git', '.local', '**/node_modules', 'dist', 'libs/database/src/generated']));
  });

  // `docker compose config` validates the file against the Compose spec without an engine; where
  // the compose plugin is missing (as on the development machines) this part is skipped.
  const compose = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
  const composeCli = compose.status === 0;
  (composeCli ? it : it.skip)(
    composeCli ? 'passes `docker compose config`' : 'passes `docker compose config` (skipped: no docker compose plugin on this machine)',
    () => {
      // A clean environment, so exported native-stack settings cannot stand in for the env file.
      const env = {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? os.homedir(),
        ...(process.env.DOCKER_CONFIG ? { DOCKER_CONFIG: process.env.DOCKER_CONFIG } : {}),
      };
      const args = ['compose', '-f', path.join(root, 'docker-compose.yml'), '--env-file', path.join(tmp, 'compose.env'), 'config'];
      const quiet = spawnSync('docker', [...args, '-q'], { encoding: 'utf8', env });
      expect(quiet.stderr).toBe('');
      expect(quiet.status).toBe(0);
      const model = JSON.parse(spawnSync('docker', [...args, '--format', 'json'], { encoding: 'utf8', env }).stdout) as {
        services: Record<string, { environment: Env }>;
      };
      for (const app of apps) expect(configSchema.safeParse(model.services[app].environment).error?.issues ?? []).toEqual([]);
    },
  );
});

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';

// Scale-out in Docker Compose and natively (issue 14): the frontends behind HAProxy, MinIO on 4
// drives. Checked statically, with the real haproxy binary judging the rendered configs (scripts/
// deps.sh installs it; the integration tests run it).

const root = path.resolve(__dirname, '../../..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');

interface Service {
  image?: string;
  command?: string[];
  ports?: string[];
  volumes?: string[];
  container_name?: string;
  healthcheck?: { test?: string[] };
  depends_on?: Record<string, { condition: string }>;
}
interface ComposeFile {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const haproxyVersion = spawnSync('haproxy', ['-v'], { encoding: 'utf8' });
const haproxyInstalled = haproxyVersion.status === 0;

/** Renders deploy/haproxy's template as stack.sh and the compose service do; haproxy -c's verdict. */
function renderAndCheck(serverLines: string[], extraFiles: string[] = []): { config: string; check: ReturnType<typeof spawnSync> } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'haproxy-cfg-'));
  try {
    const out = path.join(dir, 'haproxy.cfg');
    const render = spawnSync(
      'sh',
      [
        path.join(root, 'deploy/haproxy/render.sh'),
        path.join(root, 'deploy/haproxy/haproxy.cfg.template'),
        out,
        ':3000',
        '127.0.0.1:8404',
        ...serverLines,
      ],
      { encoding: 'utf8' },
    );
    expect(render.stderr).toBe('');
    expect(render.status).toBe(0);
    const check = spawnSync('haproxy', ['-c', '-f', out, ...extraFiles.flatMap((file) => ['-f', path.join(root, file)])], {
      encoding: 'utf8',
    });
    return { config: readFileSync(out, 'utf8'), check };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('scale-out configuration', () => {
  const compose = YAML.parse(read('docker-compose.yml'), { merge: true }) as ComposeFile;
  const erasure = YAML.parse(read('deploy/minio/compose.erasure.yml')) as ComposeFile;
  const sut = compose.services;

  it('lets the frontend scale behind the haproxy service, which publishes 3000', () => {
    expect(sut.frontend.ports).toBeUndefined();
    expect(sut.frontend.container_name).toBeUndefined();
    expect(sut.haproxy.ports).toEqual(['${BIND_ADDRESS:-127.0.0.1}:3000:3000']);
    expect(sut.haproxy.volumes).toEqual(['./deploy/haproxy:/usr/local/etc/haproxy/archiver:ro']);
    expect(sut.haproxy.depends_on).toEqual({ frontend: { condition: 'service_started' } });
    expect(sut.haproxy.command?.join(' ')).toMatch(/server-template frontend- 1-\d+ frontend:3000 resolvers docker/);
  });

  (haproxyInstalled ? it : it.skip)('pins the haproxy image to the release Debian gives the native stack', () => {
    const native = /version (\d+\.\d+)\./.exec(haproxyVersion.stdout)?.[1];
    expect(sut.haproxy.image).toMatch(new RegExp(`^haproxy:${native!.replace('.', '\\.')}\\.\\d+$`));
  });

  (haproxyInstalled ? it : it.skip)('renders a config haproxy accepts for the compose service (replicas found through DNS)', () => {
    const line = /'(server-template [^']+)'/.exec(sut.haproxy.command?.join(' ') ?? '')?.[1];
    expect(line).toBeDefined();
    const { check } = renderAndCheck([line!], ['deploy/haproxy/compose-resolvers.cfg']);
    expect({ status: check.status, stderr: check.stderr }).toEqual({ status: 0, stderr: '' });
  });

  (haproxyInstalled ? it : it.skip)('renders a config haproxy accepts for N native replicas, with only safe retries', () => {
    const { config, check } = renderAndCheck(['server frontend-1 127.0.0.1:3101', 'server frontend-2 127.0.0.1:3102']);
    expect({ status: check.status, stderr: check.stderr }).toEqual({ status: 0, stderr: '' });
    expect(config).toMatch(/^ {2}server frontend-1 127\.0\.0\.1:3101\n {2}server frontend-2 127\.0\.0\.1:3102$/m);
    // Liveness, not /health's dependency pings, decides whether a replica gets traffic.
    expect(config).toMatch(/^ {2}http-check send meth GET uri \/health\/live$/m);
    expect(config).toMatch(/^ {2}option forwardfor$/m);
    expect(config).toMatch(/^ {2}option redispatch 1$/m);
    expect(config).toMatch(/^ {2}option http-server-close$/m);
    // A POST that reached a replica is never sent again; a refused connection may always be.
    expect(config).toMatch(/^ {2}retry-on conn-failure empty-response$/m);
    expect(config).toMatch(/^ {2}http-request disable-l7-retry unless METH_GET \|\| METH_OPTIONS$/m);
    expect(config).not.toMatch(/@@[A-Z_]+@@/);
  });

  it('offers MinIO on 4 volumes, erasure-coded, health-checked on cluster quorum', () => {
    const minio = erasure.services.minio;
    expect(minio.command?.slice(0, 2)).toEqual(['server', '/data{1...4}']);
    expect(minio.volumes).toEqual(['minio-d1:/data1', 'minio-d2:/data2', 'minio-d3:/data3', 'minio-d4:/data4']);
    expect(Object.keys(erasure.volumes ?? {})).toEqual(['minio-d1', 'minio-d2', 'minio-d3', 'minio-d4']);
    expect(minio.healthcheck?.test?.join(' ')).toContain('/minio/health/cluster');
  });

  it('defaults natively to one frontend and 4 MinIO drives', () => {
    const env = read('scripts/env.sh');
    expect(env).toContain('export FRONTEND_REPLICAS="${FRONTEND_REPLICAS:-1}"');
    expect(env).toContain('export MINIO_DRIVES="${MINIO_DRIVES:-4}"');
    expect(read('scripts/deps.sh')).toMatch(/^apt_packages=\(.*\bhaproxy\b.*\)$/m);
  });
});

import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { access, cp, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  ApiClient,
  AppProcess,
  closeAll,
  createFixtureRepos,
  FixtureRepos,
  fixtureBytes,
  freePort,
  GitHttpServerHandle,
  KeycloakTestClient,
  settledArchive,
  stackScript,
  startApp,
  startGitHttpServer,
  waitFor,
} from '@archiver/testing';

const run = promisify(execFile);
const exists = (file: string) =>
  access(file).then(
    () => true,
    () => false,
  );

// MinIO as `make start` runs it now: 4 drives, erasure-coded (scripts/stack.sh start-service
// minio). It runs beside the test stack's own MinIO, on free ports with its own state dir, and
// the apps of this test store into it. One drive is wiped while it runs: every archived object
// must still read back byte for byte, archiving goes on, and MinIO heals the drive.
describe('erasure-coded MinIO', () => {
  const keycloak = KeycloakTestClient.fromEnvironment();
  const apps: AppProcess[] = [];
  const drive = (n: number) => path.join(state, 'minio', `d${n}`);
  let scratch: string;
  let state: string;
  let minioEnv: Record<string, string>;
  let fixtures: FixtureRepos;
  let http: GitHttpServerHandle;
  let api: ApiClient;

  /** The real `mc` client against this test's MinIO (the alias lives in the environment only). */
  const mc = async (args: string[]) =>
    (
      await run('mc', ['--no-color', ...args], {
        env: { ...process.env, MC_HOST_ec: minioEnv.MC_HOST_ec },
        maxBuffer: 256 * 1024 * 1024,
        encoding: 'buffer',
      })
    ).stdout;
  const jsonLines = (out: Buffer) =>
    out
      .toString('utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { key: string; type: string; size: number });
  /** Every object of every bucket: "bucket/key" → sha256 of its bytes as MinIO serves them. */
  const sizes = new Map<string, number>();
  const objectDigests = async () => {
    const digests = new Map<string, string>();
    for (const bucket of jsonLines(await mc(['ls', '--json', 'ec'])).map((entry) => entry.key.replace(/\/$/, ''))) {
      for (const object of jsonLines(await mc(['ls', '-r', '--json', `ec/${bucket}`])).filter((entry) => entry.type === 'file')) {
        sizes.set(`${bucket}/${object.key}`, object.size);
        digests.set(
          `${bucket}/${object.key}`,
          createHash('sha256')
            .update(await mc(['cat', `ec/${bucket}/${object.key}`]))
            .digest('hex'),
        );
      }
    }
    return digests;
  };

  beforeAll(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'archiver-erasure-'));
    state = path.join(scratch, 'state');
    await mkdir(state, { recursive: true });
    const [port, consolePort] = [await freePort(), await freePort()];
    const user = `ec-${randomBytes(4).toString('hex')}`;
    const password = randomBytes(18).toString('hex');
    // The state dir's own secrets (scripts/env.sh keeps an existing file and adds what it lacks).
    await writeFile(path.join(state, 'secrets.env'), `MINIO_ROOT_USER=${user}\nMINIO_ROOT_PASSWORD=${password}\n`, { mode: 0o600 });
    minioEnv = {
      ARCHIVER_STATE_DIR: state,
      MINIO_DRIVES: '4',
      MINIO_PORT: String(port),
      MINIO_CONSOLE_PORT: String(consolePort),
      MINIO_CONSOLE_URL: `http://localhost:${consolePort}`,
      MINIO_ENDPOINT: `http://127.0.0.1:${port}`,
      MINIO_ACCESS_KEY: user,
      MINIO_SECRET_KEY: password,
      MC_HOST_ec: `http://${user}:${password}@127.0.0.1:${port}`,
    };
    await stackScript(['start-service', 'minio'], minioEnv, 120_000);

    fixtures = await createFixtureRepos(path.join(scratch, 'fixtures'));
    // A multi-MB repository: its pack and its file are stored as multi-part-sized objects.
    const work = path.join(scratch, 'big-work');
    await mkdir(work);
    await writeFile(path.join(work, 'big.bin'), fixtureBytes(6 * 1024 * 1024, 11));
    const git = (args: string[], cwd = work) => run('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd });
    await git(['init', '--quiet', '--initial-branch=main']);
    await git(['add', '-A']);
    await git(['commit', '--quiet', '-m', 'big']);
    await git(['clone', '--quiet', '--bare', work, path.join(fixtures.root, 'big.git')], scratch);
    await cp(fixtures.trunk, path.join(fixtures.root, 'after-wipe.git'), { recursive: true });
    http = await startGitHttpServer({ root: fixtures.root });

    const appEnv = { ...minioEnv, ARCHIVER_WORK_DIR: path.join(scratch, 'work') };
    const frontend = await startApp('frontend', appEnv);
    apps.push(frontend, await startApp('injector', appEnv), await startApp('worker', appEnv));
    const user1 = await keycloak.createUser({ realmRoles: ['archiver-user'] });
    api = new ApiClient(frontend.url, await keycloak.passwordToken(user1.username, user1.password));
  }, 300_000);

  afterAll(async () => {
    try {
      await Promise.all(apps.map((app) => app.stop()));
    } finally {
      // MinIO first: it writes into the state dir until it has exited.
      await closeAll(keycloak.cleanup(), http?.stop(), minioEnv ? stackScript(['stop', 'minio'], minioEnv) : undefined);
      if (scratch) await rm(scratch, { recursive: true, force: true });
    }
  }, 120_000);

  it('runs on 4 drives with EC:2 and answers the cluster health check', async () => {
    const info = (await mc(['admin', 'info', 'ec'])).toString('utf8');
    expect(info).toMatch(/4 drives online, 0 drives offline, EC:2/);
    expect((await fetch(`${minioEnv.MINIO_ENDPOINT}/minio/health/cluster`)).status).toBe(200);
  });

  it('keeps a stack made with one drive on that drive, with its data, and says how to move', async () => {
    const legacy = path.join(scratch, 'legacy');
    const [port, consolePort] = [await freePort(), await freePort()];
    await mkdir(legacy);
    await writeFile(
      path.join(legacy, 'secrets.env'),
      `MINIO_ROOT_USER=${minioEnv.MINIO_ACCESS_KEY}\nMINIO_ROOT_PASSWORD=${minioEnv.MINIO_SECRET_KEY}\n`,
      {
        mode: 0o600,
      },
    );
    const env = {
      ...minioEnv,
      ARCHIVER_STATE_DIR: legacy,
      MINIO_PORT: String(port),
      MINIO_CONSOLE_PORT: String(consolePort),
      MINIO_ENDPOINT: `http://127.0.0.1:${port}`,
      MC_HOST_ec: `http://${minioEnv.MINIO_ACCESS_KEY}:${minioEnv.MINIO_SECRET_KEY}@127.0.0.1:${port}`,
    };
    const legacyMc = async (args: string[]) =>
      (await run('mc', ['--no-color', ...args], { env: { ...process.env, MC_HOST_ec: env.MC_HOST_ec }, encoding: 'utf8' })).stdout;
    try {
      // A stack as every stack was before erasure coding: MinIO's data right in $STATE/minio.
      await stackScript(['start-service', 'minio'], { ...env, MINIO_DRIVES: '1' }, 120_000);
      expect(await exists(path.join(legacy, 'minio', '.minio.sys'))).toBe(true);
      await legacyMc(['mb', 'ec/kept-bucket']);
      await run('bash', ['-c', 'printf kept | mc pipe ec/kept-bucket/kept.txt'], { env: { ...process.env, MC_HOST_ec: env.MC_HOST_ec } });
      await stackScript(['stop', 'minio'], env);

      const output = await stackScript(['start-service', 'minio'], { ...env, MINIO_DRIVES: '4' }, 120_000);
      expect(output).toMatch(/holds a single-drive MinIO, so it keeps running on one drive .*Erasure-coded storage/s);
      expect(await exists(path.join(legacy, 'minio', 'd1'))).toBe(false);
      expect(await legacyMc(['cat', 'ec/kept-bucket/kept.txt'])).toBe('kept');
      expect(await legacyMc(['admin', 'info', 'ec'])).toMatch(/1 drive online, 0 drives offline/);
    } finally {
      await stackScript(['stop', 'minio'], env);
    }
  }, 300_000);

  it('keeps every archived object byte-identical when a drive is wiped, archives on, and heals the drive', async () => {
    for (const name of ['multi', 'trunk', 'big']) {
      const archive = await settledArchive(api, (await api.submit(http.url(name))).id, 180_000);
      expect({ name, status: archive.status, error: archive.error }).toEqual({ name, status: 'completed', error: null });
    }
    const before = await objectDigests();
    expect(before.size).toBeGreaterThan(5);
    // Objects over 1 MiB are stored as erasure-coded parts; smaller ones inline in xl.meta.
    const bigObjects = [...before.keys()].filter((key) => (sizes.get(key) ?? 0) > 1024 * 1024);
    expect(bigObjects.length).toBeGreaterThan(0);

    // The drive's contents go, MinIO's own metadata (.minio.sys, the drive's format) included.
    for (const entry of await readdir(drive(2))) await rm(path.join(drive(2), entry), { recursive: true, force: true });
    const wipedAt = Date.now();
    expect(await readdir(drive(2))).toEqual([]);

    const after = await objectDigests();
    expect(Object.fromEntries(after)).toEqual(Object.fromEntries(before));

    const again = await settledArchive(api, (await api.submit(http.url('after-wipe'))).id, 180_000);
    expect({ status: again.status, error: again.error }).toEqual({ status: 'completed', error: null });

    // Healing: every object of before the wipe has its metadata (xl.meta, which holds small
    // objects inline) back on the wiped drive, and the large ones their erasure-coded parts.
    const missing = async () => {
      const gone: string[] = [];
      for (const key of before.keys()) if (!(await exists(path.join(drive(2), key, 'xl.meta')))) gone.push(key);
      return gone;
    };
    let healStarted = false;
    const healed = await waitFor(
      'MinIO to heal the wiped drive',
      async () => {
        const gone = await missing();
        if (gone.length === 0) return Date.now() - wipedAt;
        // Background healing picks a fresh drive up by itself; after a minute, ask for it too.
        if (!healStarted && Date.now() - wipedAt > 60_000) {
          healStarted = true;
          await mc(['admin', 'heal', '-r', '--quiet', 'ec']).catch(() => undefined);
        }
        return undefined;
      },
      300_000,
      1000,
    );
    for (const key of bigObjects) {
      const versions = (await readdir(path.join(drive(2), key), { withFileTypes: true })).filter((entry) => entry.isDirectory());
      const parts = (await Promise.all(versions.map((v) => readdir(path.join(drive(2), key, v.name))))).flat();
      expect({ key, parts: parts.filter((name) => name.startsWith('part.')).length > 0 }).toEqual({ key, parts: true });
    }
    console.log(
      `erasure-coded MinIO: ${before.size} objects read back identical with drive 2 wiped; drive healed ${healed} ms after the wipe${healStarted ? ' (after mc admin heal -r)' : ' (background healing)'}`,
    );
    expect(Object.fromEntries(await objectDigests())).toMatchObject(Object.fromEntries(before));
  }, 900_000);
});

import { loadConfig } from '@archiver/config';
import { AppName, AppProcess, freePort, PrivateService, startApp, startPrivateMinio, startPrivateRedis, waitFor } from '@archiver/testing';

interface Health {
  status: 'ok' | 'error';
  dependencies: Record<string, 'up' | 'down'>;
}

const health = async (app: AppProcess): Promise<{ status: number; body: Health }> => {
  const res = await fetch(`${app.url}/health`);
  return { status: res.status, body: (await res.json()) as Health };
};

// A freshly started app may still be connecting to Redis for a moment: poll until the
// report settles on what the test expects (or time out and show the last report).
const healthUntil = async (app: AppProcess, settled: (body: Health) => boolean) => {
  let last: { status: number; body: Health } | undefined;
  try {
    return await waitFor(
      'health to settle',
      async () => {
        last = await health(app);
        return settled(last.body) ? last : undefined;
      },
      15_000,
    );
  } catch {
    return last!;
  }
};

const expected: Record<AppName, string[]> = {
  frontend: ['keycloak', 'minio', 'postgres', 'redis'],
  injector: ['postgres', 'redis'],
  worker: ['minio', 'postgres', 'redis'],
};

describe('health endpoints of the real apps', () => {
  const config = loadConfig();
  const running: AppProcess[] = [];
  const services: PrivateService[] = [];
  const start = async (name: AppName, env: Record<string, string> = {}) => {
    const app = await startApp(name, env);
    running.push(app);
    return app;
  };

  afterEach(async () => {
    await Promise.all(running.splice(0).map((app) => app.stop()));
    await Promise.all(services.splice(0).map((service) => service.stop()));
  });

  it.each(Object.keys(expected) as AppName[])('%s reports every dependency up with 200', async (name) => {
    const { status, body } = await healthUntil(await start(name), (b) => b.status === 'ok');
    expect(status).toBe(200);
    expect(body.status).toBe('ok');
    expect(body.dependencies).toEqual(Object.fromEntries(expected[name].map((dependency) => [dependency, 'up'])));
  });

  it.each(['frontend', 'injector', 'worker'] as AppName[])('%s answers 503 with redis down once its Redis stops', async (name) => {
    const redis = await startPrivateRedis();
    services.push(redis);
    const app = await start(name, { REDIS_URL: redis.url });
    expect((await healthUntil(app, (b) => b.status === 'ok')).status).toBe(200);
    await redis.stop();
    const { status, body } = await health(app);
    expect(status).toBe(503);
    expect(body.dependencies).toMatchObject({ redis: 'down', postgres: 'up' });
  });

  it.each(['frontend', 'worker'] as AppName[])('%s answers 503 with minio down once its MinIO stops', async (name) => {
    const minio = await startPrivateMinio(config.minio.accessKey, config.minio.secretKey);
    services.push(minio);
    const app = await start(name, { MINIO_ENDPOINT: minio.url });
    expect((await healthUntil(app, (b) => b.status === 'ok')).status).toBe(200);
    await minio.stop();
    const { status, body } = await health(app);
    expect(status).toBe(503);
    expect(body.dependencies).toMatchObject({ minio: 'down', redis: 'up' });
  });

  it('reports postgres and keycloak down when they cannot be reached', async () => {
    const closed = await freePort();
    const app = await start('frontend', {
      DATABASE_URL: config.database.url.replace(/@[^/]+\//, `@127.0.0.1:${closed}/`),
      KEYCLOAK_INTERNAL_URL: `http://127.0.0.1:${closed}`,
    });
    const { status, body } = await healthUntil(app, (b) => b.dependencies.redis === 'up' && b.dependencies.minio === 'up');
    expect(status).toBe(503);
    expect(body.dependencies).toEqual({ postgres: 'down', redis: 'up', minio: 'up', keycloak: 'down' });
  });

  it('stops at start with a message naming a missing or malformed setting', async () => {
    await expect(startApp('worker', { DATABASE_URL: 'mysql://nope' }, 10_000)).rejects.toThrow(/exited with 78[\s\S]*DATABASE_URL/);
    await expect(startApp('injector', { REDIS_URL: '' }, 10_000)).rejects.toThrow(/REDIS_URL/);
  });
});

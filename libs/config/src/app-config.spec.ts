import os from 'node:os';
import { ConfigError, hostIdOf, parseConfig } from './app-config';

describe('parseConfig', () => {
  const valid = {
    DATABASE_URL: 'postgresql://u:p@127.0.0.1:5432/archiver',
    REDIS_URL: 'redis://:secret@127.0.0.1:6379',
    MINIO_ENDPOINT: 'http://127.0.0.1:9000',
    MINIO_ACCESS_KEY: 'archiver',
    MINIO_SECRET_KEY: 'secret-key',
    MINIO_CONSOLE_URL: 'http://localhost:9001/',
    KEYCLOAK_URL: 'http://localhost:8080/',
  };

  it('applies defaults and groups settings', () => {
    const sut = parseConfig(valid);
    expect(sut.http.ports).toEqual({ frontend: 3000, injector: 3001, worker: 3002 });
    expect(sut.keycloak).toMatchObject({ url: 'http://localhost:8080', internalUrl: 'http://localhost:8080', realm: 'archiver' });
    expect(sut.clone.allowedHosts).toEqual([]);
    expect(sut.clone.dnsServers).toEqual([]);
    expect(sut.clone.maxMemoryBytes).toBe(1024 ** 3);
    expect(sut.minio.consoleUrl).toBe('http://localhost:9001');
    expect(sut.http.timeouts).toEqual({ headersMs: 10_000, requestMs: 30_000, idleMs: 15_000, keepAliveMs: 65_000 });
  });

  it('parses lists and numbers', () => {
    const sut = parseConfig({
      ...valid,
      ARCHIVER_ALLOWED_HOSTS: ' 127.0.0.0/8, ::1 ,localhost',
      CLONE_TIMEOUT_SECONDS: '30',
      FRONTEND_PORT: '8000',
    });
    expect(sut.clone.allowedHosts).toEqual(['127.0.0.0/8', '::1', 'localhost']);
    expect(sut.clone.timeoutMs).toBe(30_000);
    expect(sut.http.ports.frontend).toBe(8000);
  });

  it('parses DNS servers and the clone memory cap', () => {
    const sut = parseConfig({
      ...valid,
      DNS_SERVERS: '127.0.0.1:5353, 10.0.0.2,[::1]:53, 2001:db8::1',
      CLONE_MAX_MEMORY_BYTES: '268435456',
    });
    expect(sut.clone.dnsServers).toEqual(['127.0.0.1:5353', '10.0.0.2', '[::1]:53', '2001:db8::1']);
    expect(sut.clone.maxMemoryBytes).toBe(268435456);
  });

  it.each([
    ['DATABASE_URL', undefined],
    ['DATABASE_URL', 'mysql://x'],
    ['REDIS_URL', 'localhost:6379'],
    ['MINIO_ENDPOINT', 'not a url'],
    ['FRONTEND_PORT', '70000'],
    ['CLONE_MAX_BYTES', '-1'],
    ['HTTP_REQUEST_TIMEOUT_SECONDS', '0'],
    ['HTTP_HEADERS_TIMEOUT_SECONDS', '31'],
    ['CLONE_MAX_MEMORY_BYTES', '1000'],
    ['DNS_SERVERS', 'dns.example.org'],
    ['DNS_SERVERS', '127.0.0.1,1.2.3.4:x'],
    ['WORKER_MIRROR_CACHE_BYTES', '-1'],
    ['WORKER_MIRROR_CACHE_BYTES', '1.5'],
    ['CREDENTIAL_KEYS', 'no-colon'],
    ['CREDENTIAL_KEYS', `k1:${Buffer.alloc(16).toString('base64')}`],
    ['CREDENTIAL_KEYS', `bad id:${Buffer.alloc(32).toString('base64')}`],
    ['CREDENTIAL_KEYS', `k1:${Buffer.alloc(32).toString('base64')},k1:${Buffer.alloc(32, 1).toString('base64')}`],
  ])('names the bad setting %s=%s', (key, value) => {
    expect(() => parseConfig({ ...valid, [key]: value })).toThrow(ConfigError);
    expect(() => parseConfig({ ...valid, [key]: value })).toThrow(new RegExp(key));
  });

  it('keeps 10 GiB of mirrors by default; 0 turns the cache off', () => {
    expect(parseConfig(valid).worker.mirrorCacheBytes).toBe(10 * 1024 ** 3);
    expect(parseConfig({ ...valid, WORKER_MIRROR_CACHE_BYTES: '0' }).worker.mirrorCacheBytes).toBe(0);
  });

  it('names the worker host by WORKER_HOST_ID, else by the hostname made safe for a file name', () => {
    expect(parseConfig({ ...valid, WORKER_HOST_ID: 'worker_3.eu' }).worker.hostId).toBe('worker_3.eu');
    expect(parseConfig(valid).worker.hostId).toBe(hostIdOf(os.hostname()));
    for (const bad of ['', '-x', 'a-b', 'a/b', 'a@b', 'x'.repeat(64)]) {
      expect(() => parseConfig({ ...valid, WORKER_HOST_ID: bad })).toThrow(ConfigError);
    }
  });

  it.each([
    ['worker-1.example.org', 'worker_1.example.org'],
    ['-weird-', 'weird_'],
    ['ünï', 'n_'],
    ['---', 'host'],
    ['x'.repeat(80), 'x'.repeat(63)],
  ])('makes the hostname %j the host id %j', (hostname, id) => {
    expect(hostIdOf(hostname)).toBe(id);
    expect(parseConfig({ ...valid, WORKER_HOST_ID: id }).worker.hostId).toBe(id);
  });

  it('reads credential keys in order (the first encrypts) and never echoes a bad key', () => {
    const [a, b] = [Buffer.alloc(32, 7), Buffer.alloc(32, 9)];
    const sut = parseConfig({ ...valid, CREDENTIAL_KEYS: `new:${a.toString('base64')}, old_1:${b.toString('base64')}` });
    expect(sut.credentials.keys).toEqual([
      { id: 'new', key: a },
      { id: 'old_1', key: b },
    ]);
    expect(parseConfig(valid).credentials.keys).toEqual([]);
    const short = `k1:${Buffer.alloc(31, 5).toString('base64')}`;
    expect(() => parseConfig({ ...valid, CREDENTIAL_KEYS: short })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining(short.slice(3)) }),
    );
  });
});

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KeycloakHealthIndicator } from './keycloak-health.indicator';

describe(KeycloakHealthIndicator.name, () => {
  let status = 200;
  let hang = false;
  let baseUrl: string;
  const seen: string[] = [];
  const server: Server = createServer((request, response) => {
    seen.push(request.url ?? '');
    if (!hang) response.writeHead(status, { 'content-type': 'application/json' }).end('{"issuer":"x"}');
  });

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  beforeEach(() => {
    status = 200;
    hang = false;
    seen.length = 0;
  });

  it("is healthy when the realm's discovery document answers on the internal URL", async () => {
    const sut = new KeycloakHealthIndicator({ internalUrl: baseUrl, realm: 'archiver' });
    await expect(sut.check()).resolves.toBe(true);
    expect(seen).toEqual(['/realms/archiver/.well-known/openid-configuration']);
  });

  it('is unhealthy when the realm is missing', async () => {
    status = 404;
    await expect(new KeycloakHealthIndicator({ internalUrl: baseUrl, realm: 'archiver' }).check()).resolves.toBe(false);
  });

  it('is unhealthy, without throwing, when nothing listens', async () => {
    const sut = new KeycloakHealthIndicator({ internalUrl: 'http://127.0.0.1:1', realm: 'archiver' });
    await expect(sut.check()).resolves.toBe(false);
  });

  it('gives up after its timeout when Keycloak hangs', async () => {
    hang = true;
    const started = Date.now();
    await expect(new KeycloakHealthIndicator({ internalUrl: baseUrl, realm: 'archiver' }, 200).check()).resolves.toBe(false);
    expect(Date.now() - started).toBeLessThan(1500);
  });
});

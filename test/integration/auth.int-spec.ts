import type { AddressInfo } from 'node:net';
import {
  AuthError,
  AuthErrorCode,
  AuthModule,
  type AuthUser,
  CurrentUser,
  KeycloakAuthGuard,
  KeycloakHealthIndicator,
  Roles,
  TokenVerifier,
} from '@archiver/auth';
import { Public } from '@archiver/health';
import { APP_CONFIG, type AppConfig, loadConfig, loadStackSettings } from '@archiver/config';
import {
  alterClaims,
  decodeJwt,
  forgeWithLocalKey,
  KeycloakTestClient,
  rejectionOf,
  tamperSignature,
  type TestUser,
  uniqueName,
} from '@archiver/testing';
import { Controller, Get, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';

// Runs against the test stack's real Keycloak (STACK=test bash scripts/stack.sh start-services).

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A port nothing listens on, for "Keycloak is down". */
async function closedPortUrl(): Promise<string> {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

describe('auth against the real Keycloak', () => {
  const config = loadConfig();
  const stack = loadStackSettings();
  // Tokens name the public URL (localhost); keys are fetched from another address, as in Docker.
  const keycloak: AppConfig['keycloak'] = { ...config.keycloak, internalUrl: `http://127.0.0.1:${stack.ports.keycloak}` };
  const keycloakClient = KeycloakTestClient.fromEnvironment();
  const sut = new TokenVerifier(keycloak);
  let demoToken: string;
  let adminToken: string;
  let roleless: TestUser;
  let rolelessToken: string;

  beforeAll(async () => {
    expect(new URL(keycloak.url).host).not.toBe(new URL(keycloak.internalUrl).host);
    demoToken = await keycloakClient.passwordToken(stack.demo.username, stack.demo.password);
    adminToken = await keycloakClient.passwordToken(stack.admin.username, stack.admin.password);
    roleless = await keycloakClient.createUser({ username: uniqueName('no-role') });
    rolelessToken = await keycloakClient.passwordToken(roleless.username, roleless.password);
  });

  afterAll(() => keycloakClient.cleanup());

  describe(TokenVerifier.name, () => {
    it("verifies demo's real token from archiver-cli", async () => {
      const verified = await sut.verify(demoToken);
      expect(verified.subject).toBe(decodeJwt(demoToken).claims.sub);
      expect(verified.subject).toMatch(/^[0-9a-f-]{36}$/);
      expect(verified.username).toBe('demo');
      expect(verified.roles).toContain('archiver-user');
      expect(verified.roles).not.toContain('archiver-admin');
      expect(sut.issuer).toBe(`${config.keycloak.url}/realms/${config.keycloak.realm}`);
    });

    it("verifies admin's token with both roles", async () => {
      expect((await sut.verify(adminToken)).roles).toEqual(expect.arrayContaining(['archiver-user', 'archiver-admin']));
    });

    it('verifies a role-less user (the guard, not the verifier, refuses them)', async () => {
      const verified = await sut.verify(rolelessToken);
      expect(verified.subject).toBe(roleless.id);
      expect(verified.roles).not.toContain('archiver-user');
    });

    it.each<[string, () => string | Promise<string>, RegExp]>([
      ['garbage', () => 'garbage', /malformed/],
      ['a tampered signature', () => tamperSignature(demoToken), /signature is invalid/],
      [
        'escalated roles',
        () => alterClaims(demoToken, { realm_access: { roles: ['archiver-user', 'archiver-admin'] } }),
        /signature is invalid/,
      ],
      ["a look-alike signed by a local key with the realm's kid", () => forgeWithLocalKey(demoToken), /signature is invalid/],
      ['a master-realm token', () => keycloakClient.adminToken(), /realms\/master.*accepts tokens from/],
    ])('rejects %s as UNAUTHENTICATED', async (_name, token, message) => {
      const error = await rejectionOf(sut.verify(await token()), AuthError);
      expect(error.code).toBe(AuthErrorCode.UNAUTHENTICATED);
      expect(error.message).toMatch(message);
    });

    it('rejects a token without the archiver-api audience', async () => {
      const clientId = await keycloakClient.createClient({ clientId: uniqueName('no-audience') });
      const token = await keycloakClient.passwordToken(stack.demo.username, stack.demo.password, clientId);
      expect([decodeJwt(token).claims.aud].flat()).not.toContain('archiver-api');
      const error = await rejectionOf(sut.verify(token), AuthError);
      expect(error.code).toBe(AuthErrorCode.UNAUTHENTICATED);
      expect(error.message).toMatch(/audience lacks "archiver-api"/);
      await keycloakClient.deleteClient(clientId);
    });

    it('rejects a real token once it has expired', async () => {
      // A throwaway client whose tokens live one second; otherwise just like archiver-cli.
      const clientId = await keycloakClient.createClient({
        clientId: uniqueName('short-lived'),
        audience: 'archiver-api',
        accessTokenLifespanSeconds: 1,
      });
      const token = await keycloakClient.passwordToken(stack.demo.username, stack.demo.password, clientId);
      const { exp, iat } = decodeJwt(token).claims as { exp: number; iat: number };
      expect(exp - iat).toBe(1);
      await sleep(Math.max(0, exp * 1000 - Date.now()) + 1100);
      const error = await rejectionOf(sut.verify(token), AuthError);
      expect(error.code).toBe(AuthErrorCode.UNAUTHENTICATED);
      expect(error.message).toMatch(/expired/);
      await keycloakClient.deleteClient(clientId);
    });

    it('answers UNAVAILABLE, quickly, when Keycloak cannot be reached for keys', async () => {
      const unreachable = new TokenVerifier({ ...keycloak, internalUrl: await closedPortUrl() }, { keyFetchTimeoutMs: 1000 });
      const error = await rejectionOf(unreachable.verify(demoToken), AuthError);
      expect(error.code).toBe(AuthErrorCode.UNAVAILABLE);
      expect(error.getStatus()).toBe(503);
    });
  });

  describe(KeycloakHealthIndicator.name, () => {
    it('reports the real realm healthy and an unreachable one unhealthy', async () => {
      await expect(new KeycloakHealthIndicator(keycloak).check()).resolves.toBe(true);
      await expect(new KeycloakHealthIndicator({ ...keycloak, realm: 'no-such-realm' }).check()).resolves.toBe(false);
      await expect(new KeycloakHealthIndicator({ ...keycloak, internalUrl: await closedPortUrl() }).check()).resolves.toBe(false);
    });
  });

  describe(KeycloakAuthGuard.name, () => {
    @Controller()
    class ProbeController {
      @Get('me') me(@CurrentUser() user: AuthUser) {
        return user;
      }
      @Roles('archiver-admin') @Get('admin') admin(@CurrentUser() user: AuthUser) {
        return user;
      }
      @Public() @Get('health') health() {
        return { ok: true };
      }
    }

    let app: INestApplication;
    let baseUrl: string;
    const get = (path: string, token?: string) =>
      fetch(`${baseUrl}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(10_000) });

    beforeAll(async () => {
      const moduleRef = await Test.createTestingModule({ imports: [AuthModule], controllers: [ProbeController] })
        .overrideProvider(APP_CONFIG)
        .useValue({ ...config, keycloak } satisfies AppConfig)
        .compile();
      app = moduleRef.createNestApplication({ logger: false });
      await app.listen(0, '127.0.0.1');
      baseUrl = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    });
    afterAll(() => app?.close());

    it('answers 401 with a JSON error and a Bearer challenge without a token', async () => {
      const response = await get('/me');
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer realm="archiver"');
      expect(response.headers.get('content-type')).toMatch(/application\/json/);
      expect(await response.json()).toEqual({
        error: { code: 'UNAUTHENTICATED', message: expect.stringContaining('Authorization: Bearer') },
      });
    });

    it('answers 401 for a bad token, naming invalid_token in the challenge', async () => {
      for (const token of ['garbage', tamperSignature(demoToken), await keycloakClient.adminToken()]) {
        const response = await get('/me', token);
        expect(response.status).toBe(401);
        expect(response.headers.get('www-authenticate')).toBe('Bearer realm="archiver", error="invalid_token"');
        expect(((await response.json()) as { error: { code: string } }).error.code).toBe('UNAUTHENTICATED');
      }
    });

    it('answers 403 for a signed-in user without archiver-user', async () => {
      const response = await get('/me', rolelessToken);
      expect(response.status).toBe(403);
      expect(await response.json()).toEqual({ error: { code: 'FORBIDDEN', message: expect.stringContaining('archiver-user') } });
    });

    it('lets demo in and hands the controller the current user', async () => {
      const response = await get('/me', demoToken);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({
        subject: decodeJwt(demoToken).claims.sub,
        username: 'demo',
        roles: expect.arrayContaining(['archiver-user']),
        isAdmin: false,
      });
    });

    it('keeps @Roles("archiver-admin") routes for admins', async () => {
      const asDemo = await get('/admin', demoToken);
      expect(asDemo.status).toBe(403);
      expect(((await asDemo.json()) as { error: { message: string } }).error.message).toContain('archiver-admin');
      const asAdmin = await get('/admin', adminToken);
      expect(asAdmin.status).toBe(200);
      expect(await asAdmin.json()).toMatchObject({ username: 'admin', isAdmin: true });
    });

    it('serves @Public() routes without a token', async () => {
      const response = await get('/health');
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ ok: true });
    });
  });
});

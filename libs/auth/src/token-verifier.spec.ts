import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  accessTokenClaims,
  alterClaims,
  forgeWithLocalKey,
  generateSigningKey,
  signJwt,
  tamperSignature,
  type TestSigningKey,
  unsignedJwt,
  rejectionOf,
} from '@archiver/testing';
import { AuthError, AuthErrorCode } from './auth.error';
import { TokenVerifier } from './token-verifier';

// A loopback stand-in for Keycloak's JWKS endpoint, so these tests pin how keys are fetched
// (internal URL, timeout, caching); the real Keycloak is exercised in test/integration/auth.int-spec.ts.
class FakeJwksServer {
  keys: TestSigningKey[] = [];
  requests = 0;
  mode: 'ok' | 'error' | 'hang' = 'ok';
  private readonly server: Server = createServer((request, response) => {
    this.requests += 1;
    if (this.mode === 'hang') return;
    if (this.mode === 'error' || request.url !== '/realms/archiver/protocol/openid-connect/certs') {
      response.writeHead(this.mode === 'error' ? 500 : 404).end('nope');
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' });
    // Keycloak also publishes an encryption key; it must never verify signatures.
    const enc = { ...this.keys[0]?.publicJwk, kid: 'enc-key', use: 'enc', alg: 'RSA-OAEP' };
    response.end(JSON.stringify({ keys: [...this.keys.map((k) => k.publicJwk), ...(this.keys[0] ? [enc] : [])] }));
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

// The issuer host is never contacted: keys come from internalUrl only.
const PUBLIC_URL = 'http://keycloak.public.invalid:8080';
const ISSUER = `${PUBLIC_URL}/realms/archiver`;

describe(TokenVerifier.name, () => {
  const jwks = new FakeJwksServer();
  const key = generateSigningKey('realm-key-1');
  let internalUrl: string;
  let sut: TokenVerifier;

  const makeVerifier = (options = {}) =>
    new TokenVerifier(
      { url: PUBLIC_URL, internalUrl, realm: 'archiver', apiClient: 'archiver-api', webClient: 'archiver-web' },
      // Generous: a loaded CI machine can take a while to answer even on loopback; the hang test sets its own.
      { keyFetchTimeoutMs: 5_000, minKeyRefreshIntervalMs: 60_000, ...options },
    );
  const validToken = (overrides = {}) => signJwt(accessTokenClaims(ISSUER, overrides), key);

  beforeAll(async () => {
    internalUrl = await jwks.start();
  });
  afterAll(() => jwks.stop());
  beforeEach(() => {
    jwks.keys = [key];
    jwks.requests = 0;
    jwks.mode = 'ok';
    sut = makeVerifier();
  });

  it('accepts a valid token: issuer on the public URL, keys from the internal URL', async () => {
    const token = validToken({ sub: 'user-1', preferred_username: 'alice', realm_access: { roles: ['archiver-user', 'x'] } });
    await expect(sut.verify(token)).resolves.toEqual({ subject: 'user-1', username: 'alice', roles: ['archiver-user', 'x'], token });
    expect(sut.issuer).toBe(ISSUER);
  });

  it('checks a token once and reuses the result for the same token, never for an altered one', async () => {
    const token = validToken({ sub: 'user-1' });
    const verifySpy = jest.spyOn(sut as unknown as { grantManagerFor: (k: unknown) => unknown }, 'grantManagerFor');
    const first = await sut.verify(token);
    await expect(sut.verify(token)).resolves.toEqual(first);
    expect(verifySpy).toHaveBeenCalledTimes(1);
    await expect(sut.verify(tamperSignature(token))).rejects.toThrow(/signature/);
    await expect(sut.verify(alterClaims(token, { sub: 'someone-else' }))).rejects.toThrow(AuthError);
    verifySpy.mockRestore();
  });

  it("does not reuse a verification past the token's expiry", async () => {
    jest.useFakeTimers({ now: Date.now(), doNotFake: ['nextTick', 'setImmediate', 'setTimeout', 'clearTimeout'] });
    try {
      const token = validToken({ exp: Math.floor(Date.now() / 1000) + 2 });
      await expect(sut.verify(token)).resolves.toMatchObject({ username: 'test-user' });
      jest.setSystemTime(Date.now() + 3_000);
      await expect(sut.verify(token)).rejects.toThrow(/expired/);
    } finally {
      jest.useRealTimers();
    }
  });

  it('accepts an audience list that contains the API client', async () => {
    await expect(sut.verify(validToken({ aud: ['account', 'archiver-api'] }))).resolves.toMatchObject({ username: 'test-user' });
  });

  it('fetches the key set once and serves later tokens from the cache', async () => {
    await sut.verify(validToken());
    await Promise.all([sut.verify(validToken()), sut.verify(validToken())]);
    expect(jwks.requests).toBe(1);
  });

  it.each<[string, () => string, RegExp]>([
    ['garbage', () => 'not-a-token', /malformed/],
    ['an empty string', () => '', /malformed/],
    ['alg none', () => unsignedJwt(accessTokenClaims(ISSUER), key.kid), /malformed/],
    ['HS256', () => signJwt(accessTokenClaims(ISSUER), key, { alg: 'HS256' }), /HS256/],
    ['an expired token', () => validToken({ exp: Math.floor(Date.now() / 1000) - 5 }), /expired/],
    ['no expiry time', () => validToken({ exp: undefined }), /malformed \(no expiry time/],
    ['an expired token from another realm', () => validToken({ exp: 1, iss: `${PUBLIC_URL}/realms/master` }), /expired/],
    [
      'an unknown kid from another realm',
      () => signJwt(accessTokenClaims(`${PUBLIC_URL}/realms/master`), generateSigningKey('master-key')),
      /realms\/master.*accepts tokens from/,
    ],
    ['an ID token', () => validToken({ typ: 'ID' }), /typ "Bearer"/],
    ['another realm', () => validToken({ iss: `${PUBLIC_URL}/realms/master` }), /realms\/master.*accepts tokens from/],
    ['the internal URL as issuer', () => validToken({ iss: `${internalUrl}/realms/archiver` }), /accepts tokens from/],
    ['a wrong audience', () => validToken({ aud: 'account' }), /audience lacks "archiver-api"/],
    ['no audience', () => validToken({ aud: undefined }), /audience/],
    ['a tampered signature', () => tamperSignature(validToken()), /signature is invalid/],
    ['escalated claims', () => alterClaims(validToken(), { realm_access: { roles: ['archiver-admin'] } }), /signature is invalid/],
    ['a look-alike signed by another key with the same kid', () => forgeWithLocalKey(validToken()), /signature is invalid/],
    ['an unknown kid', () => signJwt(accessTokenClaims(ISSUER), generateSigningKey('someone-else')), /does not publish/],
    ['a token signed by the encryption key id', () => signJwt(accessTokenClaims(ISSUER), { ...key, kid: 'enc-key' }), /does not publish/],
    ['no subject', () => validToken({ sub: undefined }), /subject/],
  ])('rejects %s as UNAUTHENTICATED', async (_name, token, message) => {
    const error = await rejectionOf(sut.verify(token()), AuthError);
    expect(error.code).toBe(AuthErrorCode.UNAUTHENTICATED);
    expect(error.getStatus()).toBe(401);
    expect(error.message).toMatch(message);
  });

  it('refetches the key set when Keycloak rotates its key', async () => {
    const sutWithoutBackoff = makeVerifier({ minKeyRefreshIntervalMs: 0 });
    await sutWithoutBackoff.verify(validToken());
    const rotated = generateSigningKey('realm-key-2');
    jwks.keys = [key, rotated];
    await expect(sutWithoutBackoff.verify(signJwt(accessTokenClaims(ISSUER), rotated))).resolves.toBeDefined();
    expect(jwks.requests).toBe(2);
  });

  it('does not refetch for unknown kids more often than the interval allows', async () => {
    await sut.verify(validToken());
    const stranger = generateSigningKey('stranger');
    await rejectionOf(sut.verify(signJwt(accessTokenClaims(ISSUER), stranger)), AuthError);
    await rejectionOf(sut.verify(signJwt(accessTokenClaims(ISSUER), stranger)), AuthError);
    expect(jwks.requests).toBe(1);
  });

  it('answers UNAVAILABLE within the timeout when Keycloak hangs', async () => {
    jwks.mode = 'hang';
    sut = makeVerifier({ keyFetchTimeoutMs: 300 });
    const started = Date.now();
    const error = await rejectionOf(sut.verify(validToken()), AuthError);
    expect(error.code).toBe(AuthErrorCode.UNAVAILABLE);
    expect(error.getStatus()).toBe(503);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(String((error.cause as Error).message)).toContain(internalUrl);
  });

  it('answers UNAVAILABLE when Keycloak answers with an error, and recovers afterwards', async () => {
    jwks.mode = 'error';
    expect((await rejectionOf(sut.verify(validToken()), AuthError)).code).toBe(AuthErrorCode.UNAVAILABLE);
    jwks.mode = 'ok';
    await expect(sut.verify(validToken())).resolves.toBeDefined();
  });

  it('keeps its message free of internal addresses', async () => {
    jwks.mode = 'error';
    const error = await rejectionOf(sut.verify(validToken()), AuthError);
    expect(error.message).not.toContain(internalUrl);
  });
});

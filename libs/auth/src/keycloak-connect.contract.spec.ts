import { createPublicKey } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { accessTokenClaims, generateSigningKey, signJwt, type TestSigningKey } from '@archiver/testing';
import Keycloak from 'keycloak-connect';
import { TokenVerifier } from './token-verifier';

// What TokenVerifier relies on, and works around, in keycloak-connect. Each case names the
// behaviour it pins; when an upgrade changes one, this fails and token-verifier.ts's comment
// says what to revisit.

type KeycloakJson = Keycloak.KeycloakConfig & Partial<{ 'realm-public-key': string; 'verify-token-audience': boolean }>;

/** A loopback JWKS endpoint that counts requests and can hang. */
class CertsServer {
  requests: string[] = [];
  hang = false;
  keys: TestSigningKey[] = [];
  private readonly server: Server = createServer((request, response) => {
    this.requests.push(request.url ?? '');
    if (this.hang) return;
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: this.keys.map((k) => k.publicJwk) }));
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

const spki = (key: TestSigningKey) =>
  createPublicKey({ key: key.publicJwk, format: 'jwk' }).export({ type: 'spki', format: 'der' }).toString('base64');

function grantManager(authServerUrl: string, extra: Partial<KeycloakJson> = {}): Keycloak.GrantManager {
  const config: KeycloakJson = {
    realm: 'archiver',
    'auth-server-url': authServerUrl,
    resource: 'archiver-api',
    'bearer-only': true,
    'ssl-required': 'external',
    'confidential-port': 0,
    ...extra,
  };
  return new Keycloak({}, config).grantManager;
}

const grantOf = (token: string) => JSON.stringify({ access_token: token, token_type: 'Bearer' });

async function outcome(promise: Promise<unknown>): Promise<'accepted' | 'rejected'> {
  return promise.then(
    () => 'accepted',
    () => 'rejected',
  );
}

describe(`keycloak-connect, as ${TokenVerifier.name} uses it`, () => {
  const certs = new CertsServer();
  const key = generateSigningKey('contract-key');
  let baseUrl: string;
  let issuer: string;

  beforeAll(async () => {
    baseUrl = await certs.start();
    issuer = `${baseUrl}/realms/archiver`;
  });
  afterAll(() => certs.stop());
  beforeEach(() => {
    certs.requests = [];
    certs.hang = false;
    certs.keys = [key];
  });

  describe('with realm-public-key (how TokenVerifier configures it)', () => {
    const withKey = (extra: Partial<KeycloakJson> = {}) =>
      grantManager(baseUrl, { 'realm-public-key': spki(key), 'verify-token-audience': true, ...extra });

    it('verifies a good token with the given key and fetches nothing', async () => {
      await expect(outcome(withKey().createGrant(grantOf(signJwt(accessTokenClaims(issuer), key))))).resolves.toBe('accepted');
      expect(certs.requests).toEqual([]);
    });

    it('expects the issuer <auth-server-url>/realms/<realm>, trailing slashes ignored', async () => {
      const sut = grantManager(`${baseUrl}//`, { 'realm-public-key': spki(key), 'verify-token-audience': true });
      await expect(outcome(sut.createGrant(grantOf(signJwt(accessTokenClaims(issuer), key))))).resolves.toBe('accepted');
    });

    it.each<[string, Record<string, unknown>]>([
      ['expired', { exp: Math.floor(Date.now() / 1000) - 5 }],
      ['an ID token', { typ: 'ID' }],
      ['a refresh token', { typ: 'Refresh' }],
      ['another issuer', { iss: `${baseUrl}/realms/master` }],
      ['another audience', { aud: 'account' }],
      ['no audience', { aud: undefined }],
    ])('refuses a token that is %s', async (_name, overrides) => {
      const token = signJwt(accessTokenClaims(issuer, overrides), key);
      await expect(outcome(withKey().createGrant(grantOf(token)))).resolves.toBe('rejected');
    });

    it('refuses a token signed by another key', async () => {
      const token = signJwt(accessTokenClaims(issuer), generateSigningKey(key.kid));
      await expect(outcome(withKey().createGrant(grantOf(token)))).resolves.toBe('rejected');
    });

    it('checks the audience only when verify-token-audience is set (why TokenVerifier sets it)', async () => {
      const token = signJwt(accessTokenClaims(issuer, { aud: 'account' }), key);
      await expect(outcome(withKey({ 'verify-token-audience': false }).createGrant(grantOf(token)))).resolves.toBe('accepted');
    });

    it('accepts a token without exp as never expiring (why parseJwt refuses it)', async () => {
      const token = signJwt(accessTokenClaims(issuer, { exp: undefined }), key);
      await expect(outcome(withKey().createGrant(grantOf(token)))).resolves.toBe('accepted');
    });
  });

  describe('without realm-public-key (what TokenVerifier avoids)', () => {
    it('fetches the keys from the issuer URL itself, so an internal address cannot be used', async () => {
      await expect(outcome(grantManager(baseUrl).createGrant(grantOf(signJwt(accessTokenClaims(issuer), key))))).resolves.toBe('accepted');
      expect(certs.requests).toEqual(['/realms/archiver/protocol/openid-connect/certs']);
    });

    it('puts no timeout on that fetch: a Keycloak that never answers holds the request', async () => {
      certs.hang = true;
      const pending = grantManager(baseUrl).createGrant(grantOf(signJwt(accessTokenClaims(issuer), key)));
      pending.catch(() => undefined);
      const timer = new Promise<'still pending'>((resolve) => setTimeout(() => resolve('still pending'), 500));
      await expect(
        Promise.race([
          pending.then(
            () => 'settled',
            () => 'settled',
          ),
          timer,
        ]),
      ).resolves.toBe('still pending');
    });
  });
});

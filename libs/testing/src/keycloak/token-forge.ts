import { generateKeyPairSync, type JsonWebKey, type KeyObject, sign } from 'node:crypto';

// Builders of bad (and, with a served JWKS, good) JWTs for tests of token verification.
// Pure functions over token strings: no network.

export type JwtClaims = Record<string, unknown>;
export interface JwtHeader {
  alg: string;
  kid?: string;
  typ?: string;
  [name: string]: unknown;
}

const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

export function decodeJwt(token: string): { header: JwtHeader; claims: JwtClaims; signature: string } {
  const [header, claims, signature] = token.split('.');
  if (signature === undefined) throw new Error('not a JWT: expected three dot-separated parts');
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString()) as JwtHeader,
    claims: JSON.parse(Buffer.from(claims, 'base64url').toString()) as JwtClaims,
    signature,
  };
}

/** A locally generated RSA key pair, with its public half as a JWKS entry a test server can publish. */
export interface TestSigningKey {
  kid: string;
  privateKey: KeyObject;
  publicJwk: JsonWebKey & { kid: string; use: 'sig'; alg: 'RS256' };
}

export function generateSigningKey(kid = `test-${Math.random().toString(36).slice(2)}`): TestSigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { kid, privateKey, publicJwk: { ...publicKey.export({ format: 'jwk' }), kid, use: 'sig', alg: 'RS256' } };
}

/** An RS256 JWT over `claims`, signed with `key`; `header` overrides the defaults. */
export function signJwt(claims: JwtClaims, key: Pick<TestSigningKey, 'kid' | 'privateKey'>, header: Partial<JwtHeader> = {}): string {
  const signed = `${encode({ alg: 'RS256', typ: 'JWT', kid: key.kid, ...header })}.${encode(claims)}`;
  return `${signed}.${sign('RSA-SHA256', Buffer.from(signed), key.privateKey).toString('base64url')}`;
}

/** Same header and claims, one signature byte flipped. */
export function tamperSignature(token: string): string {
  const [header, claims, signature] = token.split('.');
  const bytes = Buffer.from(signature, 'base64url');
  bytes[Math.floor(bytes.length / 2)] ^= 0x01;
  return `${header}.${claims}.${bytes.toString('base64url')}`;
}

/** Claims changed (e.g. roles escalated) while the original signature is kept. */
export function alterClaims(token: string, patch: JwtClaims): string {
  const [header, , signature] = token.split('.');
  return `${header}.${encode({ ...decodeJwt(token).claims, ...patch })}.${signature}`;
}

/**
 * A look-alike of a real token: same kid and claims (plus `patch`), signed by a key the
 * attacker generated. Only signature verification can tell it apart.
 */
export function forgeWithLocalKey(realToken: string, patch: JwtClaims = {}): string {
  const { header, claims } = decodeJwt(realToken);
  const key = generateSigningKey(header.kid);
  return signJwt({ ...claims, ...patch }, key, { kid: header.kid });
}

/** `alg: none`, the classic bypass attempt. */
export function unsignedJwt(claims: JwtClaims, kid?: string): string {
  return `${encode({ alg: 'none', typ: 'JWT', ...(kid ? { kid } : {}) })}.${encode(claims)}.`;
}

/** Claims shaped like a Keycloak access token for `realmUrl`, valid for `lifetimeSeconds`. */
export function accessTokenClaims(realmUrl: string, overrides: JwtClaims = {}, lifetimeSeconds = 300): JwtClaims {
  const now = Math.floor(Date.now() / 1000);
  return {
    exp: now + lifetimeSeconds,
    iat: now,
    jti: `test-${now}-${Math.random().toString(36).slice(2)}`,
    iss: realmUrl,
    aud: 'archiver-api',
    sub: '00000000-0000-4000-8000-000000000001',
    typ: 'Bearer',
    azp: 'archiver-cli',
    realm_access: { roles: ['archiver-user'] },
    preferred_username: 'test-user',
    ...overrides,
  };
}

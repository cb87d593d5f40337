import type { KeyObject } from 'node:crypto';
import type { AppConfig } from '@archiver/config';
import Keycloak from 'keycloak-connect';
import { AuthError, AuthErrorCode } from './auth.error';
import type { VerifiedToken } from './auth.types';
import { JwksClient } from './jwks.client';
import { VerifiedTokenCache, type VerifiedTokenCacheOptions } from './verified-token.cache';

export interface TokenVerifierOptions {
  /** Limit for one fetch of the realm's keys; past it requests get 503 instead of hanging. */
  keyFetchTimeoutMs?: number;
  /** How often an unknown kid may trigger a refetch (keycloak-connect's default is 10 s). */
  minKeyRefreshIntervalMs?: number;
  /** Reuse of successful verifications (see VerifiedTokenCache); `{ maxEntries: 0 }` turns it off. */
  cache?: VerifiedTokenCacheOptions;
}

/**
 * keycloak.json settings keycloak-connect reads (middleware/auth-utils/config.js) and the
 * Keycloak adapter guide documents, but its typings leave out.
 */
type KeycloakJson = Keycloak.KeycloakConfig & { 'realm-public-key': string; 'verify-token-audience': boolean };

const MAX_TOKEN_LENGTH = 16 * 1024;

const SIGNATURE_INVALID = "The access token's signature is invalid: it was altered or not issued by this realm. Get a new token.";

/**
 * Checks Keycloak access tokens for the API. The decision is keycloak-connect's, through its
 * documented interface: a `Keycloak` configured like a bearer-only keycloak.json with
 * `verify-token-audience` and `realm-public-key`, and `grantManager.createGrant`, which checks
 * expiry, `typ` Bearer, the issuer `<keycloak.url>/realms/<realm>`, the audience and the RS256
 * signature.
 *
 * The adapter around it bridges exactly these gaps (each pinned by keycloak-connect.contract.spec.ts):
 * - Keys: keycloak-connect fetches the JWKS from the issuer URL itself, without a timeout. In
 *   Docker the apps reach Keycloak at another address than the public issuer, and a stalled
 *   Keycloak must answer 503, not hang. So JwksClient fetches keys from the internal URL with a
 *   timeout, and each key is handed to keycloak-connect as `realm-public-key` (one Keycloak
 *   instance per key, which never fetches anything).
 * - Messages: keycloak-connect rejects with untyped texts. The decision is kept, and the
 *   message the caller reads is derived from the token's own claims, so no error text is parsed.
 * - Shape: its parser turns garbage into an "expired" token, never looks at `alg`, and treats a
 *   token without `exp` as never expiring; parseJwt refuses those first.
 * Roles (403) are the guard's business, not keycloak-connect's.
 */
export class TokenVerifier {
  readonly realm: string;
  readonly issuer: string;
  readonly audience: string;
  private readonly keys: JwksClient;
  private readonly verifiers = new WeakMap<KeyObject, Keycloak.GrantManager>();
  private readonly verified: VerifiedTokenCache;

  constructor(
    private readonly keycloak: AppConfig['keycloak'],
    options: TokenVerifierOptions = {},
  ) {
    this.realm = keycloak.realm;
    this.audience = keycloak.apiClient;
    // keycloak-connect's realmUrl: auth-server-url without trailing slashes + /realms/ + realm.
    this.issuer = `${keycloak.url.replace(/\/+$/, '')}/realms/${keycloak.realm}`;
    this.keys = new JwksClient({
      jwksUrl: `${keycloak.internalUrl}/realms/${encodeURIComponent(keycloak.realm)}/protocol/openid-connect/certs`,
      timeoutMs: options.keyFetchTimeoutMs ?? 3000,
      minRefreshIntervalMs: options.minKeyRefreshIntervalMs ?? 10_000,
    });
    this.verified = new VerifiedTokenCache(options.cache);
  }

  /**
   * Resolves with the bearer's identity, or rejects with an AuthError: UNAUTHENTICATED for any
   * token that cannot be trusted, UNAVAILABLE when Keycloak's keys cannot be fetched.
   */
  async verify(token: string): Promise<VerifiedToken> {
    const known = this.verified.get(token);
    if (known) return known;
    const { kid, claims } = parseJwt(token);
    try {
      const key = await this.keys.getKey(kid);
      await this.grantManagerFor(key).createGrant(JSON.stringify({ access_token: token, token_type: 'Bearer' }));
    } catch (error) {
      throw this.explain(error, claims);
    }

    if (typeof claims.sub !== 'string' || claims.sub === '') {
      throw AuthError.unauthenticated('The access token names no subject (sub); it cannot identify a user.');
    }
    const realmAccess = claims.realm_access as { roles?: unknown } | undefined;
    const roles = Array.isArray(realmAccess?.roles) ? realmAccess.roles.filter((r): r is string => typeof r === 'string') : [];
    const username = typeof claims.preferred_username === 'string' ? claims.preferred_username : claims.sub;
    const identity: VerifiedToken = Object.freeze({ subject: claims.sub, username, roles: Object.freeze(roles) as string[], token });
    this.verified.set(token, identity, (claims.exp as number) * 1000);
    return identity;
  }

  private grantManagerFor(key: KeyObject): Keycloak.GrantManager {
    let grantManager = this.verifiers.get(key);
    if (!grantManager) {
      const config: KeycloakJson = {
        realm: this.keycloak.realm,
        'auth-server-url': this.keycloak.url,
        resource: this.keycloak.apiClient,
        'bearer-only': true,
        'verify-token-audience': true,
        'ssl-required': 'external',
        'confidential-port': 0,
        // Base64 DER (SPKI), the form the admin console's "Keycloak OIDC JSON" download carries.
        'realm-public-key': key.export({ type: 'spki', format: 'der' }).toString('base64'),
      };
      grantManager = new Keycloak({}, config).grantManager;
      this.verifiers.set(key, grantManager);
    }
    return grantManager;
  }

  /**
   * UNAVAILABLE passes through (503). Anything else is a token to refuse (401); the message
   * names the first claim that explains it, or else the signature (or the key lookup's reason).
   */
  private explain(error: unknown, claims: Record<string, unknown>): AuthError {
    if (error instanceof AuthError && error.code === AuthErrorCode.UNAVAILABLE) return error;
    const reason = claimProblem(claims, this.issuer, this.audience);
    if (reason) return AuthError.unauthenticated(reason, error);
    if (error instanceof AuthError) return error;
    return AuthError.unauthenticated(SIGNATURE_INVALID, error);
  }
}

/** What in the token's claims makes keycloak-connect refuse it, in the order it checks them. */
function claimProblem(claims: Record<string, unknown>, issuer: string, audience: string): string | undefined {
  if ((claims.exp as number) * 1000 < Date.now()) return 'The access token has expired. Get a new one from Keycloak and retry.';
  if (claims.typ !== 'Bearer') return 'Only access tokens (typ "Bearer") are accepted here, not ID or refresh tokens.';
  if (claims.iss !== issuer) {
    return `The access token was issued by ${JSON.stringify(claims.iss)}, but this API accepts tokens from ${issuer} only.`;
  }
  if (![claims.aud].flat().includes(audience)) {
    return `The access token is not meant for this API: its audience lacks "${audience}". Request it through a client that adds that audience (e.g. archiver-cli or archiver-web).`;
  }
  return undefined;
}

/** Shape checks keycloak-connect skips (see the class comment). */
function parseJwt(token: string): { kid: string; claims: Record<string, unknown> } {
  const malformed = (detail: string) =>
    AuthError.unauthenticated(`The access token is malformed (${detail}). Send the access_token Keycloak issued, unchanged.`);
  if (token.length === 0 || token.length > MAX_TOKEN_LENGTH) throw malformed('empty or too long');
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((part) => /^[A-Za-z0-9_-]+$/.test(part))) {
    throw malformed('not three base64url parts');
  }
  const [header, claims] = [decodeJson(parts[0]), decodeJson(parts[1])];
  if (!header || !claims) throw malformed('header or payload is not JSON');
  if (header.alg !== 'RS256') throw malformed(`algorithm ${JSON.stringify(header.alg)} is not RS256`);
  if (typeof header.kid !== 'string') throw malformed('no key id');
  if (typeof claims.exp !== 'number' || !Number.isFinite(claims.exp)) throw malformed('no expiry time (exp)');
  return { kid: header.kid, claims };
}

function decodeJson(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

import type { KeyObject } from 'node:crypto';
import type { AppConfig } from '@archiver/config';
import Keycloak from 'keycloak-connect';
import { AuthError } from './auth.error';
import type { VerifiedToken } from './auth.types';
import { JwksClient } from './jwks.client';

export interface TokenVerifierOptions {
  /** Limit for one fetch of the realm's keys; past it requests get 503 instead of hanging. */
  keyFetchTimeoutMs?: number;
  /** How often an unknown kid may trigger a refetch (keycloak-connect's default is 10 s). */
  minKeyRefreshIntervalMs?: number;
}

/** The parts of keycloak-connect's GrantManager used here; its typings omit `realmUrl` and `rotation`. */
interface GrantManagerInternals {
  realmUrl: string;
  rotation: { getJWK(kid: string): Promise<KeyObject> };
  createGrant(rawGrant: string): Promise<unknown>;
}

/** keycloak-connect's reasons ("invalid token (<reason>)") translated into what the caller can do. */
const reasonMessages: Record<string, string> = {
  expired: 'The access token has expired. Get a new one from Keycloak and retry.',
  'wrong type': 'Only access tokens (typ "Bearer") are accepted here, not ID or refresh tokens.',
  'not signed': 'The access token is not signed. Get a token from Keycloak instead of building one.',
  'stale token': 'The access token was issued before a revocation. Sign in again.',
  'public key signature': "The access token's signature is invalid: it was altered or not issued by this realm. Get a new token.",
  signature: "The access token's signature is invalid: it was altered or not issued by this realm. Get a new token.",
};

const MAX_TOKEN_LENGTH = 16 * 1024;

/**
 * Checks Keycloak access tokens for the API: well-formed, unexpired, `typ` Bearer, issuer
 * exactly `<keycloak.url>/realms/<realm>`, `aud` containing the API client, RS256-signed by
 * a key from the realm's JWKS. The checks themselves are keycloak-connect's
 * GrantManager.validateToken; this class only feeds it keys and explains its rejections.
 */
export class TokenVerifier {
  readonly realm: string;
  readonly issuer: string;
  readonly audience: string;
  private readonly grantManager: GrantManagerInternals;
  private readonly keys: JwksClient;

  constructor(keycloak: AppConfig['keycloak'], options: TokenVerifierOptions = {}) {
    this.realm = keycloak.realm;
    this.audience = keycloak.apiClient;
    // keycloak-connect derives one realmUrl from auth-server-url and uses it both as the
    // expected `iss` and as the base of the JWKS fetch. In Docker those differ (tokens name the
    // public URL; the apps reach Keycloak by service name), so keycloak-connect gets the public
    // URL for the issuer check and the keys come from JwksClient on the internal URL.
    const adapter = new Keycloak({}, {
      realm: keycloak.realm,
      'auth-server-url': keycloak.url,
      resource: keycloak.apiClient,
      'bearer-only': true,
      'verify-token-audience': true,
      'ssl-required': 'external',
      'confidential-port': 0,
    } as Keycloak.KeycloakConfig);
    this.grantManager = adapter.grantManager as unknown as GrantManagerInternals;
    this.issuer = this.grantManager.realmUrl;
    this.keys = new JwksClient({
      jwksUrl: `${keycloak.internalUrl}/realms/${encodeURIComponent(keycloak.realm)}/protocol/openid-connect/certs`,
      timeoutMs: options.keyFetchTimeoutMs ?? 3000,
      minRefreshIntervalMs: options.minKeyRefreshIntervalMs ?? 10_000,
    });
  }

  /**
   * Resolves with the bearer's identity, or rejects with an AuthError: UNAUTHENTICATED for any
   * token that cannot be trusted, UNAVAILABLE when Keycloak's keys cannot be fetched.
   */
  async verify(token: string): Promise<VerifiedToken> {
    const claims = parseJwt(token);

    // keycloak-connect wraps every key-loading failure into one message; a per-call key source
    // keeps the typed error so that "Keycloak unreachable" (503) stays distinct from "unknown
    // key" (401). Object.create lets validateToken run unchanged with only `rotation` swapped.
    let keyFailure: unknown;
    const attempt = Object.create(this.grantManager) as GrantManagerInternals;
    attempt.rotation = {
      getJWK: (kid) =>
        this.keys.getKey(kid).catch((error: unknown) => {
          keyFailure = error;
          throw error;
        }),
    };

    try {
      await attempt.createGrant(JSON.stringify({ access_token: token, token_type: 'Bearer' }));
    } catch (error) {
      throw this.explain(error, claims, keyFailure);
    }

    if (typeof claims.sub !== 'string' || claims.sub === '') {
      throw AuthError.unauthenticated('The access token names no subject (sub); it cannot identify a user.');
    }
    const realmAccess = claims.realm_access as { roles?: unknown } | undefined;
    const roles = Array.isArray(realmAccess?.roles) ? realmAccess.roles.filter((r): r is string => typeof r === 'string') : [];
    const username = typeof claims.preferred_username === 'string' ? claims.preferred_username : claims.sub;
    return { subject: claims.sub, username, roles, token };
  }

  private explain(error: unknown, claims: Record<string, unknown>, keyFailure: unknown): AuthError {
    const message = error instanceof Error ? error.message : String(error);
    if (keyFailure instanceof AuthError && message.includes('failed to load public key')) return keyFailure;
    const reason = /invalid token \(([^)]+)\)/.exec(message)?.[1];
    if (reason === 'wrong ISS') {
      return AuthError.unauthenticated(
        `The access token was issued by ${JSON.stringify(claims.iss)}, but this API accepts tokens from ${this.issuer} only.`,
        error,
      );
    }
    if (reason === 'wrong audience') {
      return AuthError.unauthenticated(
        `The access token is not meant for this API: its audience lacks "${this.audience}". Request it through a client that adds that audience (e.g. archiver-cli or archiver-web).`,
        error,
      );
    }
    return AuthError.unauthenticated(
      (reason && reasonMessages[reason]) ?? 'The access token could not be verified. Get a new one from Keycloak and retry.',
      error,
    );
  }
}

/**
 * Shape checks keycloak-connect skips: its Token parser turns garbage into an "expired"
 * token and never looks at `alg` (it always verifies RSA-SHA256, so other algs fail later
 * anyway — checking here just gives an honest message).
 */
function parseJwt(token: string): Record<string, unknown> {
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
  return claims;
}

function decodeJson(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

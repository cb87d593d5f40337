import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { AuthError } from './auth.error';

export interface JwksClientOptions {
  /** `<internalUrl>/realms/<realm>/protocol/openid-connect/certs` */
  jwksUrl: string;
  /** Wall-clock limit for one fetch of the key set. */
  timeoutMs: number;
  /** A kid we do not know triggers at most one refetch per interval. */
  minRefreshIntervalMs: number;
  now?: () => number;
}

interface JwksDocument {
  keys?: Array<JsonWebKey & { kid?: unknown; use?: unknown; alg?: unknown }>;
}

/**
 * The realm's public signing keys, fetched on demand and cached by kid.
 *
 * Replaces keycloak-connect's `Rotation` (middleware/auth-utils/rotation.js) because that one
 * (1) has no timeout, so a stalled Keycloak hangs every request, (2) fetches from the same
 * realmUrl used for the issuer check, which breaks in Docker where the apps reach Keycloak
 * by another address than the public issuer, (3) JSON.parses the body inside a stream
 * callback, so a non-JSON answer throws out of the event loop, and (4) resolves `undefined`
 * when rate-limited, which surfaces as a TypeError.
 */
export class JwksClient {
  private keys = new Map<string, KeyObject>();
  private lastAttemptAt = Number.NEGATIVE_INFINITY;
  private inflight?: Promise<void>;
  private readonly now: () => number;

  constructor(private readonly options: JwksClientOptions) {
    this.now = options.now ?? Date.now;
  }

  /**
   * The key for `kid`. Rejects with UNAUTHENTICATED when the realm does not publish such a
   * key (a forged or foreign token) and with UNAVAILABLE when the key set cannot be fetched.
   */
  async getKey(kid: string): Promise<KeyObject> {
    const cached = this.keys.get(kid);
    if (cached) return cached;
    // Unknown kids are either a rotation (refetch) or garbage (must not make us hammer Keycloak).
    const mayRefresh = this.keys.size === 0 || this.now() - this.lastAttemptAt >= this.options.minRefreshIntervalMs;
    if (mayRefresh) await this.refresh();
    const key = this.keys.get(kid);
    if (!key) {
      throw AuthError.unauthenticated(
        'The access token was signed with a key this realm does not publish; it is forged or from another Keycloak. Get a new token from the archiver realm.',
      );
    }
    return key;
  }

  /** Concurrent callers share one fetch. */
  private refresh(): Promise<void> {
    this.inflight ??= this.fetchKeys().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async fetchKeys(): Promise<void> {
    this.lastAttemptAt = this.now();
    const { jwksUrl, timeoutMs } = this.options;
    let document: JwksDocument;
    try {
      const response = await fetch(jwksUrl, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
      if (!response.ok) throw new Error(`GET ${jwksUrl} answered ${response.status}`);
      document = (await response.json()) as JwksDocument;
    } catch (cause) {
      throw AuthError.unavailable(
        'Access tokens cannot be checked right now because Keycloak does not answer; retry in a moment.',
        new Error(`fetching the realm's signing keys from ${jwksUrl} failed (timeout ${timeoutMs} ms)`, { cause }),
      );
    }
    this.keys = signingKeys(document);
  }
}

/**
 * RS256 signature keys only: Keycloak also publishes an RSA-OAEP encryption key, which must
 * never be accepted for signatures.
 */
function signingKeys(document: JwksDocument): Map<string, KeyObject> {
  const keys = new Map<string, KeyObject>();
  for (const jwk of document.keys ?? []) {
    if (typeof jwk.kid !== 'string' || jwk.kty !== 'RSA') continue;
    if ((jwk.use ?? 'sig') !== 'sig' || (jwk.alg ?? 'RS256') !== 'RS256') continue;
    try {
      keys.set(jwk.kid, createPublicKey({ key: jwk, format: 'jwk' }));
    } catch {
      // A key node cannot import cannot verify anything; the others still can.
      continue;
    }
  }
  return keys;
}

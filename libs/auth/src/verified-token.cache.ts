import type { VerifiedToken } from './auth.types';

export interface VerifiedTokenCacheOptions {
  /** Most tokens remembered; the oldest is forgotten first. */
  maxEntries?: number;
  /**
   * Longest a verification is reused. Bounds how long a token signed with a key the realm has
   * since withdrawn keeps working on this process, beyond its own expiry.
   */
  maxAgeMs?: number;
  now?: () => number;
}

interface Entry {
  identity: VerifiedToken;
  /** The earlier of the token's own expiry and `maxAgeMs` after its verification. */
  validUntilMs: number;
}

/**
 * Verifications of access tokens already accepted, so a client that sends the same token on
 * every call (the web app, scripts) pays for the RS256 check once, not per request: under load
 * the signature check was the largest single item of POST /api/archives' CPU profile. Only
 * successes are kept, keyed by the whole token string (a changed byte is another key), and
 * never past the token's `exp`.
 */
export class VerifiedTokenCache {
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;
  private readonly maxAgeMs: number;
  private readonly now: () => number;

  constructor(options: VerifiedTokenCacheOptions = {}) {
    this.maxEntries = options.maxEntries ?? 1000;
    this.maxAgeMs = options.maxAgeMs ?? 60_000;
    this.now = options.now ?? (() => Date.now());
  }

  get(token: string): VerifiedToken | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    if (entry.validUntilMs > this.now()) return entry.identity;
    this.entries.delete(token);
    return undefined;
  }

  /** `expiresAtMs`: the token's `exp` in milliseconds. */
  set(token: string, identity: VerifiedToken, expiresAtMs: number): void {
    const validUntilMs = Math.min(expiresAtMs, this.now() + this.maxAgeMs);
    if (validUntilMs <= this.now() || this.maxEntries <= 0) return;
    this.entries.delete(token);
    // Map iterates in insertion order: the first key is the oldest verification.
    while (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(token, { identity, validUntilMs });
  }

  get size(): number {
    return this.entries.size;
  }
}

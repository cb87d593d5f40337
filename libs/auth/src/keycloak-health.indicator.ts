import type { AppConfig } from '@archiver/config';

/**
 * Is the realm reachable from this app? Pings the realm's OpenID discovery document on the
 * internal URL (the one the apps use), so a readiness probe sees what token checks will see.
 */
export class KeycloakHealthIndicator {
  readonly discoveryUrl: string;

  constructor(
    keycloak: Pick<AppConfig['keycloak'], 'internalUrl' | 'realm'>,
    private readonly timeoutMs = 2000,
  ) {
    this.discoveryUrl = `${keycloak.internalUrl}/realms/${encodeURIComponent(keycloak.realm)}/.well-known/openid-configuration`;
  }

  /** Never throws: health endpoints report, they do not fail. */
  async check(): Promise<boolean> {
    try {
      const response = await fetch(this.discoveryUrl, { signal: AbortSignal.timeout(this.timeoutMs) });
      // Drain the body so the connection is released; its content is not needed.
      await response.arrayBuffer();
      return response.ok;
    } catch {
      return false;
    }
  }
}

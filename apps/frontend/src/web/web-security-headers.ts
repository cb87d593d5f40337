/**
 * Headers for every page and asset of the web interface.
 *
 * The CSP allows scripts and styles from this origin only (no inline code anywhere, so an
 * injected `<script>` or `onclick=` cannot run). Keycloak is the one other origin: the SPA
 * calls its token endpoint (`connect-src`), keycloak-js embeds its session-status and
 * third-party-cookie iframes (`frame-src`), and the POST logout variant submits a form to it
 * (`form-action`). Nothing may frame us (`frame-ancestors 'none'`): clickjacking.
 */
export function webSecurityHeaders(keycloakUrl: string): Record<string, string> {
  const keycloak = new URL(keycloakUrl).origin;
  const policy = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src 'self' ${keycloak}`,
    `frame-src ${keycloak}`,
    `form-action 'self' ${keycloak}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "object-src 'none'",
  ].join('; ');
  return {
    'Content-Security-Policy': policy,
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    // Keycloak's redirect back carries the authorization code in the fragment, never sent as
    // a referrer; `no-referrer` also keeps archive ids out of the MinIO console's logs.
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
  };
}

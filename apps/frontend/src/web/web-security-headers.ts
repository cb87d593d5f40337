/**
 * Headers for every page and asset of the web interface.
 *
 * The CSP allows scripts and styles from this origin only (no inline code anywhere, so an
 * injected `<script>` or `onclick=` cannot run). Keycloak is the one other origin: the SPA
 * calls its token endpoint (`connect-src`), keycloak-js embeds its session-status and
 * third-party-cookie iframes (`frame-src`), and the POST logout variant submits a form to it
 * (`form-action`). Nothing may frame us (`frame-ancestors 'none'`): clickjacking.
 * Images may also be `blob:` URLs: the file browser shows a snapshot's images (fetched with
 * the bearer token) through object URLs, which only our own scripts can create.
 */
export function webSecurityHeaders(keycloakUrl: string): Record<string, string> {
  const keycloak = new URL(keycloakUrl).origin;
  const policy = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
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

/**
 * Headers for the OpenAPI page (/api/docs, Swagger UI served by @nestjs/swagger) and its files.
 *
 * Scripts stay same-origin (Swagger UI's bundle, its init file and oauth2-redirect.js are
 * files). Styles must allow inline: @nestjs/swagger's page carries `<style>` blocks and style
 * attributes; that lets a page restyle itself, not run code. Signing in uses a popup to
 * Keycloak whose last page (oauth2-redirect.html, same origin) hands the code back through
 * `window.opener`, and the page then calls Keycloak's token endpoint: hence `connect-src`
 * Keycloak and no Cross-Origin-Opener-Policy here, which would cut the popup from its opener.
 */
export function apiDocsSecurityHeaders(keycloakUrl: string): Record<string, string> {
  const keycloak = new URL(keycloakUrl).origin;
  const policy = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src 'self' ${keycloak}`,
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "object-src 'none'",
  ].join('; ');
  return {
    'Content-Security-Policy': policy,
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    // The redirect page's address carries the authorization code: never send it on as a referrer.
    'Referrer-Policy': 'no-referrer',
  };
}

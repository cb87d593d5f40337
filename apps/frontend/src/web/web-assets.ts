import path from 'node:path';
import { Logger } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { AppConfig } from '@archiver/config';
import { webSecurityHeaders } from './web-security-headers';

/**
 * The browser code, next to this file in source and copied beside the compiled file by
 * nest-cli's `assets` setting (nest-cli.json), so `dist/` and the Docker image find it
 * without depending on the working directory.
 */
export const WEB_ASSETS_DIR = path.join(__dirname, 'assets');

/**
 * keycloak-js ships as plain ES modules in its `lib/` folder; serving that folder (not a CDN
 * copy) keeps the app working offline and pinned to the version in package-lock.json.
 * Undefined when the package is missing: the web pages then cannot sign in, but the REST API
 * must not go down with them, so this is logged loudly instead of stopping the process.
 */
function keycloakJsDir(): string | undefined {
  try {
    return path.dirname(require.resolve('keycloak-js'));
  } catch {
    new Logger('Web').error('keycloak-js is not installed (run npm install): the web interface cannot sign anyone in');
    return undefined;
  }
}

/**
 * Static files of the web interface: `/assets/*` (our code) and `/vendor/keycloak-js/*`.
 * Express serves them before Nest's router, so the API's auth guard never sees them — they
 * are public, like the HTML shell. No fingerprinted names, hence `no-cache` (revalidate by ETag).
 */
export function serveWebAssets(app: NestExpressApplication, config: AppConfig): void {
  const headers = webSecurityHeaders(config.keycloak.url);
  const options = {
    index: false,
    dotfiles: 'ignore',
    cacheControl: true,
    maxAge: 0,
    setHeaders: (res: { setHeader(name: string, value: string): void }) => {
      for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
      res.setHeader('Cache-Control', 'no-cache');
    },
  };
  app.useStaticAssets(WEB_ASSETS_DIR, { ...options, prefix: '/assets/' });
  const keycloakJs = keycloakJsDir();
  if (keycloakJs) app.useStaticAssets(keycloakJs, { ...options, prefix: '/vendor/keycloak-js/' });
}

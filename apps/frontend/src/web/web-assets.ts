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
 * Browser libraries come from node_modules (not a CDN copy), which keeps the app working
 * offline and pinned to the versions in package-lock.json: keycloak-js's ES modules (`lib/`),
 * marked's ES build (`lib/marked.esm.js`) and DOMPurify's (`dist/purify.es.mjs`), for a
 * snapshot's README. Undefined when a package is missing: that part of the web interface
 * fails, but the REST API must not go down with it, so this is logged loudly instead.
 */
function vendorDir(name: string, without: string): string | undefined {
  try {
    return path.dirname(require.resolve(name));
  } catch {
    new Logger('Web').error(`${name} is not installed (run npm install): ${without}`);
    return undefined;
  }
}

const VENDOR_PACKAGES = [
  { name: 'keycloak-js', without: 'the web interface cannot sign anyone in' },
  { name: 'marked', without: 'file browsing cannot render READMEs' },
  { name: 'dompurify', without: 'file browsing cannot render READMEs' },
];

/**
 * Static files of the web interface: `/assets/*` (our code) and `/vendor/<package>/*`.
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
  for (const { name, without } of VENDOR_PACKAGES) {
    const dir = vendorDir(name, without);
    if (dir) app.useStaticAssets(dir, { ...options, prefix: `/vendor/${name}/` });
  }
}

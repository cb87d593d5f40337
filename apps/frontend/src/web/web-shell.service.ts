import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import type { Response } from 'express';
import { APP_CONFIG, type AppConfig } from '@archiver/config';
import { WEB_ASSETS_DIR } from './web-assets';
import { webSecurityHeaders } from './web-security-headers';

/** What the browser needs to start the sign-in; nothing here is secret (archiver-web is a public client). */
export interface WebClientConfig {
  keycloakUrl: string;
  realm: string;
  clientId: string;
  apiBase: string;
}

/** The single-page app's HTML shell, answered for every page path, and its public configuration. */
@Injectable()
export class WebShellService {
  private readonly html: string;
  private readonly headers: Record<string, string>;
  private readonly clientConfig: WebClientConfig;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    // Read once: a missing file should stop the start-up, not fail the first visitor.
    this.html = readFileSync(path.join(WEB_ASSETS_DIR, 'index.html'), 'utf8');
    this.headers = webSecurityHeaders(config.keycloak.url);
    this.clientConfig = {
      keycloakUrl: config.keycloak.url,
      realm: config.keycloak.realm,
      clientId: config.keycloak.webClient,
      apiBase: '/api',
    };
  }

  /** The shell; the page's data comes from the authenticated API, so the HTML itself is public. */
  page(res: Response): string {
    res.set({ ...this.headers, 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-cache' });
    return this.html;
  }

  config(res: Response): WebClientConfig {
    res.set({ 'Cache-Control': 'no-cache', 'X-Content-Type-Options': 'nosniff' });
    return this.clientConfig;
  }
}

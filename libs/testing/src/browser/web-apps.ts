import { type AppProcess, startApp } from '../stack/app-process';
import { closeAll } from '../support/close-all';
import { BrowserPages, type PageOptions } from './browser-pages';
import { startWebFrontend } from './web-frontend';

type Env = Record<string, string>;

export interface WebAppsOptions {
  /** Settings for all three apps (e.g. the URL policy's allowlist), under their own ones below. */
  env?: Env;
  frontendEnv?: Env;
  injectorEnv?: Env;
  workerEnv?: Env;
  /** Defaults of every page the suite opens (viewport, downloads, init script). */
  pages?: PageOptions;
}

/**
 * What a browser suite runs against: the built frontend on PUBLIC_URL (the address Keycloak
 * accepts for archiver-web), an injector and a worker, so the UI shows real visits, and one
 * Chromium. Stopping it closes the browser and stops the apps, whatever fails.
 */
export class WebApps {
  private constructor(
    readonly frontend: AppProcess & { publicUrl: string },
    readonly apps: AppProcess[],
    readonly pages: BrowserPages,
  ) {}

  get publicUrl(): string {
    return this.frontend.publicUrl;
  }

  static async start(options: WebAppsOptions = {}): Promise<WebApps> {
    const { env = {} } = options;
    const started: AppProcess[] = [];
    try {
      const frontend = await startWebFrontend({ ...env, ...options.frontendEnv });
      started.push(frontend);
      const others = await Promise.allSettled([
        startApp('injector', { ...env, ...options.injectorEnv }),
        startApp('worker', { ...env, ...options.workerEnv }),
      ]);
      for (const other of others) {
        if (other.status === 'fulfilled') started.push(other.value);
      }
      const failed = others.find((other) => other.status === 'rejected');
      if (failed) throw failed.reason;
      return new WebApps(frontend, started, await BrowserPages.launch(frontend.publicUrl, options.pages));
    } catch (error) {
      await closeAll(...started.map((app) => app.stop()));
      throw error;
    }
  }

  async stop(): Promise<void> {
    await closeAll(this.pages.close(), ...this.apps.map((app) => app.stop()));
  }
}

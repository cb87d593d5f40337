import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { collectPageProblems, launchChromium } from './chromium';
import { type BrowserLogin, signInThroughKeycloak } from './keycloak-login';

export interface PageOptions {
  viewport?: { width: number; height: number };
  acceptDownloads?: boolean;
  /** Runs in every document before the page's own scripts, and is not subject to the page's CSP. */
  initScript?: string;
}

/** A page and the context it owns; `problems` fills with everything a person would call a bug. */
export interface OpenedPage {
  page: Page;
  context: BrowserContext;
  problems: string[];
}

/**
 * One Chromium per suite and a fresh context per page, so each page starts with no Keycloak
 * session or cookies and signs in as exactly the user its test names. Pages use en-GB and UTC
 * so what they show does not depend on the machine's locale or time zone.
 */
export class BrowserPages {
  private readonly contexts: BrowserContext[] = [];

  private constructor(
    private readonly browser: Browser,
    private readonly appUrl: string,
    private readonly defaults: PageOptions,
  ) {}

  static async launch(appUrl: string, defaults: PageOptions = {}): Promise<BrowserPages> {
    return new BrowserPages(await launchChromium(), appUrl, defaults);
  }

  async open(options: PageOptions = {}): Promise<OpenedPage> {
    const { initScript, ...contextOptions } = { ...this.defaults, ...options };
    const context = await this.browser.newContext({
      locale: 'en-GB',
      timezoneId: 'UTC',
      ...contextOptions,
    } satisfies BrowserContextOptions);
    this.contexts.push(context);
    const problems = collectPageProblems(context);
    if (initScript) await context.addInitScript({ content: initScript });
    return { page: await context.newPage(), context, problems };
  }

  /**
   * Opens `route` signed out, which the app answers with Keycloak's login form; signs in as
   * `login` and waits for the app's own signed-in header, so the test starts on a usable page.
   */
  async signedIn(login: BrowserLogin, route = '/', options?: PageOptions): Promise<OpenedPage> {
    const opened = await this.open(options);
    await opened.page.goto(`${this.appUrl}${route}`);
    await opened.page.locator('#kc-form-login').waitFor();
    await signInThroughKeycloak(opened.page, login, this.appUrl);
    await opened.page.getByRole('button', { name: 'Log out' }).waitFor();
    return opened;
  }

  /** After each test: no session or page survives into the next one. */
  async closePages(): Promise<void> {
    await Promise.all(this.contexts.splice(0).map((context) => context.close()));
  }

  async close(): Promise<void> {
    await this.closePages();
    await this.browser.close();
  }
}

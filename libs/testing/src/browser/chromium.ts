import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

const ROOT = path.resolve(__dirname, '../../../..');

/** Debian's chromium (make deps installs it); Playwright downloads no browser here. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * Headless, sandbox-less (containers), and quiet: no background traffic, component updates,
 * QUIC or sync, so the browser talks to nothing but the loopback addresses a test opens.
 */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-quic',
  '--no-first-run',
  '--disable-sync',
];

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}

/** Where screenshots of browser tests go (git-ignored). */
export const SCREENSHOT_DIR = path.join(ROOT, 'artifacts/screenshots');

/** Saves a full-page screenshot as artifacts/screenshots/<name>.png and returns its path. */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true, animations: 'disabled', caret: 'hide' });
  return file;
}

/**
 * Everything the page reported that a person would call a bug: uncaught errors, console
 * errors, Content-Security-Policy violations (Chromium logs them as console errors), pages or
 * assets that failed to load, and API answers of 5xx. API answers of 4xx are left out: the UI
 * shows those to the person on purpose (e.g. a refused URL), and Chromium's matching
 * "Failed to load resource" console line says nothing more. Assert it is empty after a test.
 */
export function collectPageProblems(context: BrowserContext): string[] {
  const problems: string[] = [];
  const assetTypes = new Set(['document', 'script', 'stylesheet', 'image', 'font']);
  const watch = (page: Page) => {
    page.on('pageerror', (error) => problems.push(`pageerror on ${page.url()}: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() !== 'error' || message.text().startsWith('Failed to load resource:')) return;
      problems.push(`console.error on ${page.url()}: ${message.text()}`);
    });
    page.on('response', (response) => {
      const type = response.request().resourceType();
      if (response.status() >= 500 || (response.status() >= 400 && assetTypes.has(type))) {
        problems.push(`${response.status()} for ${type} ${response.url()}`);
      }
    });
    page.on('requestfailed', (request) => {
      // A download the test cancels, or navigation away, aborts requests on purpose.
      if (request.failure()?.errorText === 'net::ERR_ABORTED') return;
      problems.push(`request failed: ${request.url()} (${request.failure()?.errorText})`);
    });
  };
  context.pages().forEach(watch);
  context.on('page', watch);
  return problems;
}

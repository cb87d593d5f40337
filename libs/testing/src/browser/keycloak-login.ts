import type { Page } from 'playwright-core';

export interface BrowserLogin {
  username: string;
  password: string;
}

/** True when `page` shows the realm's login form (Keycloak's own page, not ours). */
export async function isKeycloakLoginPage(page: Page, keycloakUrl: string, realm: string): Promise<boolean> {
  const onAuthEndpoint =
    page.url().startsWith(`${keycloakUrl}/realms/${realm}/protocol/openid-connect/auth`) ||
    page.url().startsWith(`${keycloakUrl}/realms/${realm}/login-actions/`);
  return onAuthEndpoint && (await page.locator('#kc-form-login').isVisible());
}

/**
 * Fills Keycloak's login form (theme keycloak.v2: #username, #password, #kc-login) and waits
 * until the browser is back on `appUrl`.
 */
export async function signInThroughKeycloak(page: Page, login: BrowserLogin, appUrl: string): Promise<void> {
  await page.locator('#username').fill(login.username);
  await page.locator('#password').fill(login.password);
  await Promise.all([page.waitForURL((url) => url.href.startsWith(appUrl), { timeout: 30_000 }), page.locator('#kc-login').click()]);
}

import { createServer } from 'node:net';
import { loadConfig } from '@archiver/config';
import { type AppProcess, launchApp } from '../stack/app-process';

/**
 * Runs the built frontend on the port of PUBLIC_URL (http://localhost:13000 on the test stack),
 * because the browser must use the address registered in Keycloak: archiver-web accepts
 * redirects to `${PUBLIC_URL}/*` only, and Keycloak's CORS answers only that origin.
 * startApp picks a random port, which suits API tests but not a browser login.
 */
export async function startWebFrontend(
  env: Record<string, string | undefined> = {},
  timeoutMs = 30_000,
): Promise<AppProcess & { publicUrl: string }> {
  const publicUrl = loadConfig().http.publicUrl;
  const parsed = new URL(publicUrl);
  const port = Number(parsed.port || (parsed.protocol === 'https:' ? 443 : 80));
  if (!['localhost', '127.0.0.1'].includes(parsed.hostname)) {
    throw new Error(`PUBLIC_URL ${publicUrl} is not a loopback address; browser tests run the frontend locally`);
  }
  await assertPortFree(port);
  return { ...(await launchApp('frontend', port, env, timeoutMs)), publicUrl };
}

async function assertPortFree(port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.once('error', () =>
      reject(
        new Error(
          `port ${port} (PUBLIC_URL's) is taken — is the test stack's own frontend running? Stop it: STACK=${process.env.STACK ?? 'test'} bash scripts/stack.sh stop frontend`,
        ),
      ),
    );
    server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
  });
}

import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { loadConfig } from '@archiver/config';
import type { AppProcess } from '../stack/app-process';

const ROOT = path.resolve(__dirname, '../../../..');

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

  const main = path.join(ROOT, 'dist/apps/frontend/apps/frontend/src/main.js');
  const child = spawn(process.execPath, ['--enable-source-maps', main], {
    cwd: ROOT,
    env: { ...process.env, FRONTEND_PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`frontend exited with ${child.exitCode} before listening:\n${output}`);
    try {
      await fetch(`${url}/health`, { signal: AbortSignal.timeout(5000) });
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`frontend did not listen on ${port} within ${timeoutMs} ms:\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  return {
    name: 'frontend',
    url,
    publicUrl,
    port,
    child,
    output: () => output,
    async stop(graceMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

async function assertPortFree(port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.once('error', () =>
      reject(
        new Error(
          `port ${port} (PUBLIC_URL's) is taken — is the test stack's own frontend running? Stop it: STACK=test bash scripts/stack.sh stop frontend`,
        ),
      ),
    );
    server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
  });
}

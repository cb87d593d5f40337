import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const ROOT = path.resolve(__dirname, '../../../..');
const run = promisify(execFile);

/** `scripts/stack.sh` with the test stack's environment plus `env`; its combined output. */
export async function stackScript(args: string[], env: Record<string, string | undefined> = {}, timeoutMs = 300_000): Promise<string> {
  const { stdout, stderr } = await run('bash', [path.join(ROOT, 'scripts/stack.sh'), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    timeout: timeoutMs,
    maxBuffer: 16 * 1024 * 1024,
  });
  return `${stdout}${stderr}`;
}

/**
 * The stack's own apps as `make start` runs them (stack.sh start-apps: frontend replicas and
 * HAProxy when FRONTEND_REPLICAS > 1, injector, worker), for tests of that layout itself.
 */
export async function startStackApps(env: Record<string, string | undefined>): Promise<string> {
  return stackScript(['start-apps'], env);
}

/** Stops every app process of the stack (each frontend replica and HAProxy included). */
export async function stopStackApps(): Promise<string> {
  return stackScript(['stop', 'frontend', 'injector', 'worker']);
}

/** The PIDs `stack.sh status` reports for the running processes, by name (frontend-1, haproxy, …). */
export async function stackProcesses(): Promise<Map<string, number>> {
  const status = await stackScript(['status']);
  return new Map([...status.matchAll(/^(\S+)\s+running \(pid (\d+)\)$/gm)].map((match) => [match[1], Number(match[2])]));
}

import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Thrown by a `waitFor` probe to end the wait at once with `cause`: the awaited thing can no
 * longer happen (the process that should answer has exited), so polling on would only hide it.
 */
export class StopWaiting extends Error {
  constructor(readonly reason: Error) {
    super(reason.message, { cause: reason });
    this.name = 'StopWaiting';
  }
}

/**
 * Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs`
 * naming `what` and the probe's last error. A probe that throws is retried, unless it throws
 * StopWaiting.
 */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      if (error instanceof StopWaiting) throw error.reason;
      lastError = error;
    }
    const left = deadline - Date.now();
    if (left <= 0) break;
    await sleep(Math.min(intervalMs, left));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
}

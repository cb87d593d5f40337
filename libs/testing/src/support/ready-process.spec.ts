import { spawnUntilReady } from './ready-process';

/** True while a process with this pid exists (signal 0 only checks). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The pid a script printed first, read from the error's text. */
function printedPid(error: unknown): number {
  const match = /pid=(\d+)/.exec((error as Error).message);
  if (!match) throw new Error(`no pid in: ${(error as Error).message}`);
  return Number(match[1]);
}

const node = (script: string) => ({ command: process.execPath, args: ['-e', script], env: { PATH: '/usr/bin:/bin' } });
const printsPidThenIdles = "console.log('pid=' + process.pid); setInterval(() => undefined, 1000);";

describe(spawnUntilReady.name, () => {
  it('resolves once ready says yes, and stop() ends the process', async () => {
    let checks = 0;
    const sut = await spawnUntilReady({
      name: 'idler',
      ...node(printsPidThenIdles),
      ready: async () => ++checks >= 3,
      timeoutMs: 5000,
      intervalMs: 10,
    });
    expect(checks).toBe(3);
    expect(sut.running()).toBe(true);
    await sut.stop(2000);
    expect(sut.running()).toBe(false);
    expect(alive(sut.child.pid!)).toBe(false);
  });

  it.each<[string, () => Promise<boolean>]>([
    ['answers no', async () => false],
    ['throws', async () => Promise.reject(new Error('ECONNREFUSED'))],
  ])('kills and awaits a process whose readiness check %s until the timeout, then throws', async (_name, ready) => {
    const error = await spawnUntilReady({ name: 'idler', ...node(printsPidThenIdles), ready, timeoutMs: 800, intervalMs: 20 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/timed out after 800 ms waiting for idler to be ready/);
    expect(alive(printedPid(error))).toBe(false);
  });

  it('fails at once, naming the exit code and output, when the process exits before it is ready', async () => {
    const started = Date.now();
    const attempt = spawnUntilReady({
      name: 'quitter',
      ...node("console.error('config missing'); process.exit(78)"),
      ready: async () => false,
      timeoutMs: 20_000,
    });
    await expect(attempt).rejects.toThrow(/quitter exited with 78 before it was ready; it printed:\nconfig missing/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('fails (rather than crashing the runner) when the command cannot be started', async () => {
    const attempt = spawnUntilReady({
      name: 'ghost',
      command: '/nonexistent/ghost-server',
      args: [],
      env: {},
      ready: async () => true,
      timeoutMs: 5000,
    });
    await expect(attempt).rejects.toThrow(/ghost could not be started \(.*ENOENT.*\) before it was ready/);
  });
});

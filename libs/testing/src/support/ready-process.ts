import { ChildProcess, spawn } from 'node:child_process';
import { StopWaiting, waitFor } from './wait-for';

export interface ReadyProcessOptions {
  /** How messages name the process. */
  name: string;
  command: string;
  args: readonly string[];
  env: NodeJS.ProcessEnv;
  cwd?: string;
  /** Says whether the process serves yet; a rejection counts as "not yet". */
  ready: () => Promise<boolean>;
  timeoutMs: number;
  intervalMs?: number;
}

/** A child process that answered its readiness check. */
export interface ReadyProcess {
  child: ChildProcess;
  /** Everything it printed on stdout and stderr. */
  output(): string;
  running(): boolean;
  /** Resolves with the exit code (null after a signal) once the process is gone. */
  exited: Promise<number | null>;
  /** SIGTERM and wait for the exit (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<number | null>;
  /** SIGKILL and wait for the exit. */
  kill(): Promise<void>;
}

/**
 * Starts a process and waits until `ready` says yes. A start that fails — the process exits
 * first, cannot be spawned, or is not ready in time — kills and awaits it before throwing, so a
 * failed start leaves no process behind; the error carries what it printed.
 */
export async function spawnUntilReady(options: ReadyProcessOptions): Promise<ReadyProcess> {
  const child = spawn(options.command, options.args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  // Without a listener a failed spawn would crash the test runner instead of failing the start.
  let spawnError: Error | undefined;
  const exited = new Promise<number | null>((resolve) => {
    child.once('error', (error) => {
      spawnError = error;
      if (child.pid === undefined) resolve(null);
    });
    child.once('exit', (code) => resolve(code));
  });
  const running = () => spawnError === undefined && child.exitCode === null && child.signalCode === null;
  // A failed spawn is reported asynchronously: settle that before the first readiness check.
  await new Promise<void>((resolve) => {
    child.once('spawn', resolve);
    child.once('error', () => resolve());
  });

  const handle: ReadyProcess = {
    child,
    output: () => output,
    running,
    exited,
    async stop(graceMs = 15_000) {
      if (!running()) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
    async kill() {
      if (!running()) return;
      child.kill('SIGKILL');
      await exited;
    },
  };

  try {
    await waitFor(
      `${options.name} to be ready`,
      async () => {
        if (!running()) {
          const how = spawnError ? `could not be started (${spawnError.message})` : `exited with ${child.exitCode ?? child.signalCode}`;
          throw new StopWaiting(new Error(`${options.name} ${how} before it was ready`));
        }
        return (await options.ready()) ? true : undefined;
      },
      options.timeoutMs,
      options.intervalMs ?? 200,
    );
  } catch (error) {
    await handle.kill();
    throw new Error(`${(error as Error).message}${output ? `; it printed:\n${output}` : ''}`, { cause: error });
  }
  return handle;
}

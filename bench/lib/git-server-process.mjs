// The bench's git http server (libs/testing's startGitHttpServer, compiled into dist/bench) in a
// process of its own, so the capacity phase can read its CPU — the Node proxy and its
// `git http-backend` children — apart from the bench driver's. Run as a script it serves
// `argv[2]` on loopback and prints one JSON line { baseUrl }; SIGTERM stops it, and so does the
// end of its stdin, so it never outlives a bench process that was killed.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';

const SELF = fileURLToPath(import.meta.url);
const ROOT = path.resolve(path.dirname(SELF), '../..');

/** Starts the server process; resolves when it listens. `url(name)` as the in-process handle's. */
export async function startGitServerProcess(root, { timeoutMs = 30_000 } = {}) {
  const child = spawn(process.execPath, [SELF, root], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = once(child, 'exit');
  const lines = createInterface({ input: child.stdout });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const first = await Promise.race([once(lines, 'line').then(([line]) => line), exited.then(() => null)]);
  clearTimeout(timer);
  if (!first) throw new Error(`git server process exited before listening (code ${child.exitCode})`);
  const { baseUrl } = JSON.parse(first);
  return {
    pid: child.pid,
    baseUrl,
    url: (name) => `${baseUrl}/${name.endsWith('.git') ? name : `${name}.git`}`,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(kill);
    },
  };
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url) {
  const require = createRequire(path.join(ROOT, 'package.json'));
  const { startGitHttpServer } = require(path.join(ROOT, 'dist/bench/libs/testing/src/git/index.js'));
  const server = await startGitHttpServer({ root: process.argv[2] });
  process.stdout.write(`${JSON.stringify({ baseUrl: server.baseUrl })}\n`);
  const stop = () => void server.stop().finally(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.stdin.on('end', stop).on('close', stop).resume();
}

import { readdir, readFile, readlink, stat } from 'node:fs/promises';
import path from 'node:path';

interface ProcessInfo {
  readonly pid: number;
  readonly ppid: number;
  readonly pgid: number;
}

/**
 * Kills what a dead worker left running in `dir` (its attempt's work dir): every process of
 * our own uid whose command line mentions a path inside `dir` or whose working directory is
 * inside it, together with its process group when that group is its own (a clone's `timeout`
 * leads one holding git and its helpers). Never this process or its own group. A parent-death
 * signal stops such processes in the normal case; this catches the rest (a worker killed in
 * the instant before the signal was armed, a host where it is unavailable). Linux only: it
 * reads /proc. Resolves to the number of processes signalled.
 */
export async function killProcessesUnder(dir: string): Promise<number> {
  const root = path.resolve(dir);
  const self = await processInfo(process.pid);
  const uid = process.getuid?.();
  const all = await listProcesses();
  const spared = ancestorsOf(process.pid, all);
  const matched: ProcessInfo[] = [];
  for (const candidate of all) {
    if (spared.has(candidate.pid)) continue;
    if (uid !== undefined && (await ownerOf(candidate.pid)) !== uid) continue;
    if (await mentions(candidate.pid, root)) matched.push(candidate);
  }

  const matchedPids = new Set(matched.map((p) => p.pid));
  const livePids = new Set(all.map((p) => p.pid));
  const groups = new Set<number>();
  const singles = new Set<number>();
  for (const { pid, pgid } of matched) {
    // A group is ours to kill when its leader is one of the leftovers or already gone (git
    // orphaned by a dead `timeout`); otherwise it belongs to someone else (a shell, a
    // supervisor) and only the process itself goes.
    const ownGroup = pgid > 1 && pgid !== self?.pgid && (matchedPids.has(pgid) || !livePids.has(pgid));
    if (ownGroup) groups.add(pgid);
    else singles.add(pid);
  }

  let signalled = 0;
  for (const pgid of groups) {
    const members = all.filter((p) => p.pgid === pgid).length;
    if (trySignal(-pgid)) signalled += members;
  }
  for (const pid of singles) {
    const inKilledGroup = matched.some((p) => p.pid === pid && groups.has(p.pgid));
    if (!inKilledGroup && trySignal(pid)) signalled++;
  }
  return signalled;
}

function trySignal(target: number): boolean {
  try {
    process.kill(target, 'SIGKILL');
    return true;
  } catch (error) {
    // ESRCH: it ended meanwhile, which is what we wanted.
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

async function listProcesses(): Promise<ProcessInfo[]> {
  const found: ProcessInfo[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const info = await processInfo(Number(entry));
    if (info) found.push(info);
  }
  return found;
}

/** pid and process group from /proc/<pid>/stat; undefined when the process is gone. */
async function processInfo(pid: number): Promise<ProcessInfo | undefined> {
  const text = await readOrNull(() => readFile(`/proc/${pid}/stat`, 'utf8'));
  if (text === null) return undefined;
  // The command name (field 2) is in parentheses and may itself contain spaces or ")".
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const ppid = Number(fields[1]);
  const pgid = Number(fields[2]);
  return Number.isInteger(pgid) && Number.isInteger(ppid) ? { pid, ppid, pgid } : undefined;
}

/** This process and everything above it (a shell whose command line names the dir, say). */
function ancestorsOf(pid: number, all: readonly ProcessInfo[]): Set<number> {
  const byPid = new Map(all.map((p) => [p.pid, p]));
  const chain = new Set<number>();
  for (let current = byPid.get(pid); current && !chain.has(current.pid); current = byPid.get(current.ppid)) chain.add(current.pid);
  chain.add(pid);
  return chain;
}

async function ownerOf(pid: number): Promise<number | null> {
  return readOrNull(async () => (await stat(`/proc/${pid}`)).uid);
}

async function mentions(pid: number, root: string): Promise<boolean> {
  const inside = (p: string): boolean => p === root || p.startsWith(`${root}/`);
  const cwd = await readOrNull(() => readlink(`/proc/${pid}/cwd`));
  if (cwd !== null && inside(cwd)) return true;
  const cmdline = await readOrNull(() => readFile(`/proc/${pid}/cmdline`));
  if (cmdline === null) return false;
  // An argument may carry the path after a prefix (`--git-dir=<path>`, `-C<path>`).
  return cmdline
    .toString('utf8')
    .split('\0')
    .some((arg) => arg.includes(`${root}/`) || arg.endsWith(root));
}

/** Processes come and go while we scan; a vanished or foreign one is simply skipped. */
async function readOrNull<T>(read: () => Promise<T>): Promise<T | null> {
  try {
    return await read();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH' || code === 'EACCES' || code === 'EPERM') return null;
    throw error;
  }
}

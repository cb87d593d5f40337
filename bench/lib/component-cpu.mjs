// CPU-seconds per component of the stack, from /proc. A process's utime+stime is its own CPU;
// cutime+cstime is the CPU of the children it has waited for (Node's child_process reaps every
// child through libuv, git waits for its own helpers, the postmaster for its backends), so
// own + waited-for children + the trees of the children still alive is every CPU-second a
// process tree has spent, whether its children came and went during the window or not.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const TICKS_PER_SECOND = 100; // USER_HZ, as bench/lib/common.mjs's processCpuSeconds assumes

/** pid → { ppid, self, children } (seconds) of every process now, from one pass over /proc. */
function readProcs() {
  const procs = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let text;
    try {
      text = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited while we listed
    }
    const f = text.slice(text.lastIndexOf(') ') + 2).split(' ');
    // Fields after the name: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14).
    procs.set(Number(entry), {
      ppid: Number(f[1]),
      self: (Number(f[11]) + Number(f[12])) / TICKS_PER_SECOND,
      children: (Number(f[13]) + Number(f[14])) / TICKS_PER_SECOND,
    });
  }
  return procs;
}

function childrenOf(procs) {
  const map = new Map();
  for (const [pid, p] of procs) {
    if (!map.has(p.ppid)) map.set(p.ppid, []);
    map.get(p.ppid).push(pid);
  }
  return map;
}

/** CPU of `pid`'s descendants: the waited-for ones (cutime+cstime) and the trees of the live ones. */
function descendantsCpu(pid, procs, kids, depth = 0) {
  const p = procs.get(pid);
  if (!p || depth > 32) return 0;
  let sum = p.children;
  for (const child of kids.get(pid) ?? []) sum += procs.get(child).self + descendantsCpu(child, procs, kids, depth + 1);
  return sum;
}

function machineBusySeconds() {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = fields[3] + fields[4];
  return { busy: (fields.reduce((a, b) => a + b, 0) - idle) / TICKS_PER_SECOND };
}

/** The live PID in a service's pid file of the bench stack (scripts/stack.sh), or null. */
export function servicePid(stateDir, service) {
  const file = service === 'postgres' ? path.join(stateDir, 'pg/postmaster.pid') : path.join(stateDir, 'pids', `${service}.pid`);
  try {
    const pid = Number(readFileSync(file, 'utf8').split('\n')[0].trim());
    readFileSync(`/proc/${pid}/stat`);
    return pid;
  } catch {
    return null;
  }
}

/**
 * A reading of every component's CPU so far. `pids` maps a component to
 * { self: [pids whose own CPU counts], tree: [pids whose own and descendants' CPU counts],
 *   children: [pids whose descendants' CPU only counts] } — e.g. the worker's Node process is
 * `self` of "worker" and `children` of "git".
 */
export function readComponents(pids) {
  const procs = readProcs();
  const kids = childrenOf(procs);
  const out = {};
  for (const [component, spec] of Object.entries(pids)) {
    let sum = 0;
    for (const pid of spec.self ?? []) sum += procs.get(pid)?.self ?? 0;
    for (const pid of spec.children ?? []) sum += descendantsCpu(pid, procs, kids);
    for (const pid of spec.tree ?? []) sum += (procs.get(pid)?.self ?? 0) + descendantsCpu(pid, procs, kids);
    out[component] = sum;
  }
  const usage = process.cpuUsage();
  return { at: Date.now(), cpu: out, driver: (usage.user + usage.system) / 1e6, machine: machineBusySeconds().busy };
}

/**
 * CPU-seconds per component between two readings, plus the machine's busy seconds and what
 * none of the measured processes nor this bench process used ("foreign": other work on a shared
 * machine, and components not listed). Processes that started or ended between the readings
 * must be listed in both (a pid missing from a reading counts 0 there).
 */
export function diffComponents(before, after) {
  const cpu = {};
  for (const c of Object.keys(after.cpu)) cpu[c] = Math.max(0, after.cpu[c] - (before.cpu[c] ?? 0));
  const ours = Object.values(cpu).reduce((a, b) => a + b, 0);
  const driver = after.driver - before.driver;
  const machine = after.machine - before.machine;
  const seconds = (after.at - before.at) / 1000;
  return { seconds, cpu, driver, machine, foreign: Math.max(0, machine - ours - driver) };
}

import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import path from 'node:path';

const PREFIX = 'archive-';

/**
 * Temp dirs of the worker: `archive-<archiveId>-<pid>-<random>` under the configured work
 * dir. The name says which archive and which process made it, so leftovers of a crashed
 * attempt (SIGKILL, OOM) can be found and removed by whoever runs next.
 */
export class WorkDirs {
  constructor(private readonly root: string) {}

  async create(archiveId: string): Promise<string> {
    await mkdir(this.root, { recursive: true, mode: 0o700 });
    await this.removeLeftovers((name) => name.startsWith(`${PREFIX}${archiveId}-`));
    return mkdtemp(path.join(this.root, `${PREFIX}${archiveId}-${process.pid}-`));
  }

  async remove(dir: string): Promise<void> {
    await rm(dir, { recursive: true, force: true, maxRetries: 3 });
  }

  /** At start: dirs of processes that no longer run (this host's PIDs only) are garbage. */
  async sweepDead(): Promise<number> {
    return this.removeLeftovers((name) => {
      const pid = Number(/^archive-[0-9a-f-]{36}-(\d+)-/.exec(name)?.[1]);
      return Number.isInteger(pid) && !isAlive(pid);
    });
  }

  private async removeLeftovers(matches: (name: string) => boolean): Promise<number> {
    const names = await readdir(this.root).catch(() => [] as string[]);
    const stale = names.filter((name) => name.startsWith(PREFIX) && matches(name));
    await Promise.all(stale.map((name) => this.remove(path.join(this.root, name))));
    return stale.length;
  }
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

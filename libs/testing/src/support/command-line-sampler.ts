import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as pause } from 'node:timers/promises';

/**
 * Every process's command line, read from /proc again and again while work runs. A secret on a
 * command line is readable by every local user for as long as the process lives, so tests of
 * credentials collect what was visible and search it afterwards.
 */
export class CommandLineSampler {
  /** Each distinct command line seen (arguments joined by spaces). */
  readonly seen = new Set<string>();

  /** Samples until `work` settles, and passes its outcome on. */
  async during<T>(work: Promise<T>): Promise<T> {
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        this.sampleOnce();
        await pause(1);
      }
    })();
    try {
      return await work;
    } finally {
      sampling = false;
      await sampler;
    }
  }

  /**
   * One pass over /proc, read synchronously: ~4 ms here, where a pass of awaited reads (each a
   * few thread-pool round trips) took ~40 ms idle and longer under load, long enough to miss
   * the ssh of a small clone altogether. The loop yields between passes.
   */
  private sampleOnce(): void {
    let pids: string[];
    try {
      pids = readdirSync('/proc');
    } catch {
      return;
    }
    for (const pid of pids) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        const raw = readFileSync(`/proc/${pid}/cmdline`);
        if (raw.length > 0) this.seen.add(raw.toString('utf8').replace(/\0/g, ' '));
      } catch {
        // The process ended between the listing and the read.
      }
    }
  }
}

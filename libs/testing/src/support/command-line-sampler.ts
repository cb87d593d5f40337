import { readdir, readFile } from 'node:fs/promises';

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
      while (sampling) await this.sampleOnce();
    })();
    try {
      return await work;
    } finally {
      sampling = false;
      await sampler;
    }
  }

  private async sampleOnce(): Promise<void> {
    for (const pid of await readdir('/proc').catch(() => [])) {
      if (!/^\d+$/.test(pid)) continue;
      const raw = await readFile(`/proc/${pid}/cmdline`).catch(() => null);
      if (raw && raw.length > 0) this.seen.add(raw.toString('utf8').replace(/\0/g, ' '));
    }
  }
}

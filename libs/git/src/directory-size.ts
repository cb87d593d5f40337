import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';

/**
 * Bytes used by the files under `dir` (symlinks counted, never followed). Tolerates entries
 * vanishing mid-walk, since git renames and deletes temporary files while we measure.
 * Stops early once `stopAbove` is exceeded: the caller only needs to know it is too big.
 */
export async function directorySize(dir: string, stopAbove = Number.POSITIVE_INFINITY): Promise<number> {
  let total = 0;
  const pending = [dir];
  while (pending.length > 0 && total <= stopAbove) {
    const current = pending.pop() as string;
    let entries;
    try {
      entries = await readdir(current, { withFileTypes: true });
    } catch (error) {
      if (isGone(error)) continue;
      throw error;
    }
    for (const entry of entries) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) {
        pending.push(full);
        continue;
      }
      try {
        total += (await lstat(full)).size;
      } catch (error) {
        if (!isGone(error)) throw error;
      }
    }
  }
  return total;
}

function isGone(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

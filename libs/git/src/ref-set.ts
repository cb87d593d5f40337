import { runGit, type GitRuntimeOptions } from './git-process';

type ExactRef = { readonly nameBytes: Buffer; readonly sha: string };

/**
 * Makes the refs of the bare repository at `gitDir` exactly `target` (names are bytes), given
 * the refs it has now (`current`), in one `update-ref --stdin` transaction: refs not in `target`
 * are deleted, the others created or moved. git refuses a ref whose object is missing, so this
 * also proves the repository holds every object `target` names. Retention uses it to bundle the
 * refs of each kept snapshot, one after another, from a single restored repository.
 */
export async function setRefsExactly(
  gitDir: string,
  current: readonly ExactRef[],
  target: readonly ExactRef[],
  options: { signal?: AbortSignal; runtime?: GitRuntimeOptions } = {},
): Promise<void> {
  const wanted = new Set(target.map((ref) => ref.nameBytes.toString('base64')));
  const lines: Buffer[] = [];
  for (const ref of current) {
    if (!wanted.has(ref.nameBytes.toString('base64'))) lines.push(Buffer.from('delete '), ref.nameBytes, Buffer.from('\n'));
  }
  for (const ref of target) lines.push(Buffer.from('update '), ref.nameBytes, Buffer.from(` ${ref.sha}\n`));
  if (lines.length === 0) return;
  await runGit(['update-ref', '--stdin'], { cwd: gitDir, runtime: options.runtime, signal: options.signal, input: Buffer.concat(lines) });
}

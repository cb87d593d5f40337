import { GitError, GitErrorCode } from './git.error';
import { type GitRuntimeOptions, runGit } from './git-process';

export type GitTreeEntryType = 'blob' | 'tree' | 'commit';

/** One entry of a tree object, exactly as stored (crafted trees included: any bytes, any order, duplicates). */
export interface GitTreeEntry {
  readonly nameBytes: Buffer;
  /** Octal mode as git prints it in ls-tree: 100644, 100755, 120000, 040000, 160000. */
  readonly mode: string;
  readonly type: GitTreeEntryType;
  readonly id: string;
  /** Blob size in bytes; absent for trees and submodule commits. */
  readonly size?: number;
}

/** The trees read under one root, each once, by id. */
export interface GitTrees {
  readonly root: string;
  readonly trees: ReadonlyMap<string, readonly GitTreeEntry[]>;
}

export interface ReadTreesOptions {
  readonly signal?: AbortSignal;
  /**
   * Trees not to read (nor descend into): ones the caller knows already. Their ids still appear
   * in their parents' entries.
   */
  readonly skip?: (treeId: string) => boolean;
}

/** Tree ids per `git cat-file --batch`: keeps each process's collected output well below runGit's cap. */
const TREES_PER_PROCESS = 2_000;
/** Blob ids per `git cat-file --batch-check`. */
const BLOBS_PER_PROCESS = 200_000;
const OBJECT_ID = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

/**
 * Reads every tree under `rootTree` from the object database, level by level: one `git cat-file
 * --batch` per level (not per tree), each distinct tree once, then the size of every blob with
 * one `--batch-check`. Tree objects are parsed from their raw bytes, not from `ls-tree -r`
 * paths, so a crafted name holding `/` or a duplicate entry cannot be mistaken for nesting.
 */
export async function readTrees(
  gitDir: string,
  runtime: GitRuntimeOptions,
  rootTree: string,
  options: ReadTreesOptions = {},
): Promise<GitTrees> {
  const git = (args: string[], input: string) => runGit(args, { cwd: gitDir, runtime, input, signal: options.signal });
  const raw = new Map<string, { name: Buffer; mode: string; id: string }[]>();
  let level = [rootTree];
  while (level.length > 0) {
    const next = new Set<string>();
    for (let start = 0; start < level.length; start += TREES_PER_PROCESS) {
      const ids = level.slice(start, start + TREES_PER_PROCESS);
      const { stdout } = await git(['cat-file', '--batch'], ids.map((id) => `${id}\n`).join(''));
      for (const [id, body] of parseBatch(stdout, ids)) {
        const entries = parseTreeObject(body, id);
        raw.set(id, entries);
        for (const entry of entries) {
          if (treeType(entry.mode) === 'tree' && !raw.has(entry.id) && !(options.skip?.(entry.id) ?? false)) next.add(entry.id);
        }
      }
    }
    level = [...next].filter((id) => !raw.has(id));
  }
  const sizes = await blobSizes(git, raw);
  const trees = new Map<string, GitTreeEntry[]>();
  for (const [id, entries] of raw) {
    trees.set(
      id,
      entries.map(({ name, mode, id: entryId }) => {
        const type = treeType(mode);
        const size = type === 'blob' ? sizes.get(entryId) : undefined;
        return { nameBytes: name, mode, type, id: entryId, ...(size !== undefined && { size }) };
      }),
    );
  }
  return { root: rootTree, trees };
}

async function blobSizes(
  git: (args: string[], input: string) => Promise<{ stdout: Buffer }>,
  trees: ReadonlyMap<string, readonly { mode: string; id: string }[]>,
): Promise<Map<string, number>> {
  const ids = new Set<string>();
  for (const entries of trees.values()) for (const entry of entries) if (treeType(entry.mode) === 'blob') ids.add(entry.id);
  const all = [...ids];
  const sizes = new Map<string, number>();
  for (let start = 0; start < all.length; start += BLOBS_PER_PROCESS) {
    const chunk = all.slice(start, start + BLOBS_PER_PROCESS);
    const { stdout } = await git(
      ['cat-file', '--batch-check=%(objectname) %(objecttype) %(objectsize)'],
      chunk.map((id) => `${id}\n`).join(''),
    );
    const lines = stdout.toString('latin1').split('\n');
    chunk.forEach((id, i) => {
      const [name = '', type = '', sizeText = ''] = (lines[i] ?? '').split(' ');
      const size = Number(sizeText);
      if (name !== id || type !== 'blob' || !Number.isSafeInteger(size)) {
        throw new GitError(GitErrorCode.GIT_FAILED, `Blob ${id} is missing or not a blob: ${(lines[i] ?? '').slice(0, 200)}`);
      }
      sizes.set(id, size);
    });
  }
  return sizes;
}

/** `<id> <type> <size>\n<bytes>\n` per object, in the order asked. */
function* parseBatch(stdout: Buffer, ids: readonly string[]): Generator<[string, Buffer]> {
  let at = 0;
  for (const id of ids) {
    const newline = stdout.indexOf(0x0a, at);
    const header = stdout.subarray(at, newline < 0 ? stdout.length : newline).toString('latin1');
    const [name = '', type = '', sizeText = ''] = header.split(' ');
    const size = Number(sizeText);
    if (newline < 0 || name !== id || type !== 'tree' || !Number.isSafeInteger(size) || newline + 1 + size > stdout.length) {
      throw new GitError(GitErrorCode.GIT_FAILED, `Tree ${id} is missing or not a tree: ${header.slice(0, 200)}`);
    }
    yield [id, stdout.subarray(newline + 1, newline + 1 + size)];
    at = newline + 1 + size + 1;
  }
}

/** A raw tree object: `<octal mode> SP <name bytes> NUL <binary id>` repeated. */
export function parseTreeObject(body: Buffer, treeId: string): { name: Buffer; mode: string; id: string }[] {
  const idBytes = treeId.length === 64 ? 32 : 20;
  const entries: { name: Buffer; mode: string; id: string }[] = [];
  let at = 0;
  while (at < body.length) {
    const space = body.indexOf(0x20, at);
    const nul = space < 0 ? -1 : body.indexOf(0x00, space + 1);
    if (space < 0 || nul < 0 || nul + 1 + idBytes > body.length) {
      throw new GitError(GitErrorCode.GIT_FAILED, `Tree ${treeId} is malformed at byte ${at}`);
    }
    const modeText = body.subarray(at, space).toString('latin1');
    const id = body.subarray(nul + 1, nul + 1 + idBytes).toString('hex');
    if (!/^[0-7]{1,6}$/.test(modeText) || !OBJECT_ID.test(id))
      throw new GitError(GitErrorCode.GIT_FAILED, `Tree ${treeId} has a malformed entry`);
    const mode = canonicalMode(parseInt(modeText, 8));
    entries.push({ name: Buffer.from(body.subarray(space + 1, nul)), mode, id });
    at = nul + 1 + idBytes;
  }
  return entries;
}

const S_IFMT = 0o170000;

/**
 * The mode as git itself reads it (canon_mode): `git ls-tree` prints `040000` for a tree stored
 * as `40000`, and `100644` for a file stored with old modes such as `100664`.
 */
function canonicalMode(mode: number): string {
  switch (mode & S_IFMT) {
    case 0o100000:
      return mode & 0o100 ? '100755' : '100644';
    case 0o120000:
      return '120000';
    case 0o040000:
      return '040000';
    default:
      return '160000';
  }
}

/** What an entry of a tree is, by its mode, as git decides it (S_IFMT bits). */
export function treeType(mode: string): GitTreeEntryType {
  if (mode === '040000') return 'tree';
  if (mode === '160000') return 'commit';
  return 'blob';
}

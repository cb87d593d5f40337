import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { BlobBatchReader } from './blob-batch.reader';
import { GitError, GitErrorCode } from './git.error';
import { GitRuntimeOptions, runGit } from './git-process';

export interface GitRef {
  /** Full name, e.g. `refs/heads/main`, `refs/tags/v1.0`. */
  readonly name: string;
  /** What the ref points at (the tag object for annotated tags). */
  readonly sha: string;
  /** For annotated tags: the object the tag points at. */
  readonly peeledSha?: string;
}

export type TreeEntryKind = 'file' | 'executable' | 'symlink';

export interface TreeEntry {
  /** Path in the repository, decoded as UTF-8 (invalid bytes become U+FFFD; see `pathBytes`). */
  readonly path: string;
  /** The path exactly as git stores it, for names that are not valid UTF-8. */
  readonly pathBytes: Buffer;
  /** Octal mode as git prints it: 100644, 100755 or 120000. */
  readonly mode: string;
  readonly kind: TreeEntryKind;
  readonly type: 'blob';
  readonly sha: string;
  /** Blob size in bytes (for a symlink, the length of its target). */
  readonly size: number;
}

export interface BlobContent {
  readonly entry: TreeEntry;
  readonly size: number;
  /** The blob's bytes; read it to the end (or destroy it) before asking for the next blob. */
  readonly stream: Readable;
}

/** What the archive needs to know before reading files: every ref, and what HEAD is. */
export interface RepositoryHead {
  readonly refs: GitRef[];
  /** Commit of the default branch, or null for a repository without commits. */
  readonly commit: string | null;
  /** The branch HEAD points at, e.g. `refs/heads/trunk`; null if HEAD is detached. */
  readonly defaultBranch: string | null;
}

export interface CreatedBundle {
  readonly path: string;
  readonly sizeBytes: number;
}

const OBJECT_ID = /^[0-9a-f]{40}([0-9a-f]{24})?$/;
const KIND_BY_MODE: Readonly<Record<string, TreeEntryKind>> = { '100644': 'file', '100755': 'executable', '120000': 'symlink' };

/**
 * Reads a bare repository without checking anything out: names, modes and contents come from
 * git's object database, so symlinks, `..` and odd bytes in names never touch the filesystem.
 */
export class RepositoryReader {
  constructor(
    private readonly gitDir: string,
    private readonly runtime: GitRuntimeOptions = {},
  ) {}

  async refs(): Promise<GitRef[]> {
    return (await this.listRefs()).map(({ ref }) => ref);
  }

  /**
   * refs(), headCommit() and defaultBranch() together, in one git process where possible:
   * a clone's HEAD nearly always names an existing branch at a commit, which for-each-ref marks.
   * Otherwise (no commits, detached HEAD) it asks git the long way. Each git process costs the
   * worker a fork of its whole address space on the event loop (~5 ms), for every archive.
   */
  async head(): Promise<RepositoryHead> {
    const listed = await this.listRefs();
    const refs = listed.map(({ ref }) => ref);
    const current = listed.find((r) => r.isHead && r.type === 'commit' && r.ref.name.startsWith('refs/heads/'));
    if (current) return { refs, commit: current.ref.sha, defaultBranch: current.ref.name };
    const [commit, defaultBranch] = await Promise.all([this.headCommit(), this.defaultBranch()]);
    return { refs, commit, defaultBranch };
  }

  /** The branch HEAD points at, e.g. `refs/heads/trunk`; null if HEAD is detached. */
  async defaultBranch(): Promise<string | null> {
    const { exitCode, stdout } = await this.git(['symbolic-ref', '--quiet', 'HEAD'], [1]);
    return exitCode === 0 ? stdout.toString('utf8').trim() : null;
  }

  /** Commit of the default branch, or null for a repository without commits. */
  async headCommit(): Promise<string | null> {
    const { exitCode, stdout } = await this.git(['rev-parse', '--verify', '--quiet', 'HEAD^{commit}'], [1]);
    return exitCode === 0 ? stdout.toString('utf8').trim() : null;
  }

  /** Every file of `commit`'s tree, recursively; submodule entries are skipped (never fetched). */
  async listTree(commit: string): Promise<TreeEntry[]> {
    assertObjectId(commit);
    const entries: TreeEntry[] = [];
    let pending: Buffer = Buffer.alloc(0);
    // Parsed as it streams so a tree of a million files is not held twice in memory.
    const onStdout = (chunk: Buffer): void => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      let start = 0;
      for (let nul = pending.indexOf(0, start); nul >= 0; nul = pending.indexOf(0, start)) {
        const entry = parseTreeLine(pending.subarray(start, nul));
        if (entry) entries.push(entry);
        start = nul + 1;
      }
      pending = Buffer.from(pending.subarray(start));
    };
    await this.git(['ls-tree', '-r', '-z', '--long', '--full-tree', commit], [], onStdout);
    if (pending.length > 0) throw new GitError(GitErrorCode.GIT_FAILED, 'git ls-tree output ended mid-entry');
    return entries;
  }

  /**
   * Yields each entry's content in order through one `git cat-file --batch` process. The next
   * blob is not fetched until the consumer asks for it, and a blob left half-read is skipped.
   */
  async *blobs(entries: Iterable<TreeEntry> | AsyncIterable<TreeEntry>): AsyncGenerator<BlobContent> {
    const batch = new BlobBatchReader(this.gitDir, this.runtime);
    try {
      // Ids go to git a window at a time (one pipe write each); contents still one by one.
      for await (const window of windows(entries, PREFETCH_WINDOW)) {
        batch.prefetch(window.map((entry) => entry.sha));
        for (const entry of window) {
          const { size, stream } = await batch.read(entry.sha);
          yield { entry, size, stream };
        }
      }
    } finally {
      await batch.close();
    }
  }

  /** Callback form of `blobs()`: `onBlob` must consume (or destroy) the stream before resolving. */
  async streamBlobs(entries: Iterable<TreeEntry> | AsyncIterable<TreeEntry>, onBlob: (blob: BlobContent) => Promise<void>): Promise<void> {
    for await (const blob of this.blobs(entries)) await onBlob(blob);
  }

  /**
   * `git bundle create <file> --all`; null for a repository without refs (git refuses empty
   * bundles). Pass the refs when already read, to save a git process.
   */
  async createBundle(outFile: string, knownRefs?: readonly GitRef[]): Promise<CreatedBundle | null> {
    if ((knownRefs ?? (await this.refs())).length === 0) return null;
    const file = path.resolve(outFile);
    await this.git(['bundle', 'create', '--quiet', file, '--all']);
    return { path: file, sizeBytes: (await stat(file)).size };
  }

  private async listRefs(): Promise<{ ref: GitRef; isHead: boolean; type: string }[]> {
    const { stdout } = await this.git(['for-each-ref', '--format=%(objectname)%00%(*objectname)%00%(refname)%00%(HEAD)%00%(objecttype)']);
    return stdout
      .toString('utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => {
        const [sha = '', peeled = '', name = '', head = '', type = ''] = line.split('\0');
        return { ref: peeled === '' ? { name, sha } : { name, sha, peeledSha: peeled }, isHead: head === '*', type };
      });
  }

  private git(args: string[], okExitCodes: number[] = [], onStdout?: (chunk: Buffer) => void) {
    return runGit(args, { cwd: this.gitDir, runtime: this.runtime, okExitCodes, onStdout });
  }
}

/** How many object ids blobs() sends to git ahead of reading them. */
const PREFETCH_WINDOW = 256;

async function* windows<T>(items: Iterable<T> | AsyncIterable<T>, size: number): AsyncGenerator<T[]> {
  let window: T[] = [];
  for await (const item of items) {
    window.push(item);
    if (window.length === size) {
      yield window;
      window = [];
    }
  }
  if (window.length > 0) yield window;
}

/** `<mode> SP <type> SP <sha> SP+ <size> TAB <path>` (with -z the path is raw, unquoted bytes). */
export function parseTreeLine(line: Buffer): TreeEntry | null {
  const tab = line.indexOf(0x09);
  if (tab < 0) throw new GitError(GitErrorCode.GIT_FAILED, `Unexpected git ls-tree line: ${line.toString('utf8').slice(0, 200)}`);
  const [mode = '', type = '', sha = '', sizeText = ''] = line.subarray(0, tab).toString('latin1').split(/ +/);
  if (type === 'commit') return null; // a submodule: another repository, deliberately not fetched
  const kind = KIND_BY_MODE[mode];
  const size = Number(sizeText);
  if (type !== 'blob' || !kind || !OBJECT_ID.test(sha) || !Number.isSafeInteger(size)) {
    throw new GitError(GitErrorCode.GIT_FAILED, `Unexpected git ls-tree entry: ${line.toString('utf8').slice(0, 200)}`);
  }
  const pathBytes = Buffer.from(line.subarray(tab + 1));
  return { path: pathBytes.toString('utf8'), pathBytes, mode, kind, type, sha, size };
}

function assertObjectId(value: string): void {
  // Also keeps anything that looks like an option (`--output=...`) away from git's argv.
  if (!OBJECT_ID.test(value)) throw new GitError(GitErrorCode.INVALID_ARGUMENT, `Expected a full object id, got ${JSON.stringify(value)}`);
}

import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { BlobBatchReader } from './blob-batch.reader';
import { GitError, GitErrorCode } from './git.error';
import { abortedError, GitRuntimeOptions, runGit } from './git-process';
import { type GitTrees, readTrees, type ReadTreesOptions } from './tree-reader';
import { chooseFallbackRef, GitRef, knownCommit, LIST_REFS_FORMAT, ListedRef, parseRefList } from './repository-reader.refs';

export type { GitRef } from './repository-reader.refs';
export type { GitTreeEntry, GitTreeEntryType, GitTrees, ReadTreesOptions } from './tree-reader';

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

export interface BlobContent<E extends { readonly sha: string } = TreeEntry> {
  readonly entry: E;
  readonly size: number;
  /** The blob's bytes; read it to the end (or destroy it) before asking for the next blob. */
  readonly stream: Readable;
}

/** What the archive needs to know before reading files: every ref, and which commit to store. */
export interface RepositoryHead {
  readonly refs: GitRef[];
  /**
   * The commit whose files to store: HEAD's, or when HEAD leads to no commit the fallback
   * chosen by chooseFallbackRef(). Null only when no ref leads to a commit (an empty repository).
   */
  readonly commit: string | null;
  /** `HEAD`, or the full name of the ref `commit` was taken from; null with `commit`. */
  readonly commitSource: string | null;
  readonly commitSourceBytes: Buffer | null;
  /** The branch HEAD points at, e.g. `refs/heads/trunk` (it may not exist); null if HEAD is detached. */
  readonly defaultBranch: string | null;
  readonly defaultBranchBytes: Buffer | null;
}

export interface CreatedBundle {
  readonly path: string;
  readonly sizeBytes: number;
}

/** Cancels the operation: its git child is killed and the call rejects with GitError ABORTED. */
export interface ReadOptions {
  readonly signal?: AbortSignal;
}

const OBJECT_ID = /^[0-9a-f]{40}([0-9a-f]{24})?$/;
const KIND_BY_MODE: Readonly<Record<string, TreeEntryKind>> = { '100644': 'file', '100755': 'executable', '120000': 'symlink' };
const HEAD = 'HEAD';

/**
 * Reads a bare repository without checking anything out: names, modes and contents come from
 * git's object database, so symlinks, `..` and odd bytes in names never touch the filesystem.
 */
export class RepositoryReader {
  constructor(
    private readonly gitDir: string,
    private readonly runtime: GitRuntimeOptions = {},
  ) {}

  async refs(options: ReadOptions = {}): Promise<GitRef[]> {
    return (await this.listRefs(options.signal)).map(({ ref }) => ref);
  }

  /**
   * refs() and the commit to store, in one git process where possible: a clone's HEAD nearly
   * always names an existing branch at a commit, which for-each-ref marks. Otherwise (no
   * commits, detached HEAD, HEAD naming a missing branch) it asks git the long way. Each git
   * process costs the worker a fork of its whole address space on the event loop (~5 ms), for
   * every archive.
   */
  async head(options: ReadOptions = {}): Promise<RepositoryHead> {
    const listed = await this.listRefs(options.signal);
    const refs = listed.map(({ ref }) => ref);
    const current = listed.find((r) => r.isHead && r.type === 'commit' && r.ref.name.startsWith('refs/heads/'));
    if (current) {
      const { name, nameBytes, sha } = current.ref;
      return { refs, commit: sha, ...fromHead(), defaultBranch: name, defaultBranchBytes: nameBytes };
    }
    const [headCommit, branch] = await Promise.all([this.headCommit(options), this.defaultBranchBytes(options.signal)]);
    const defaultBranch = { defaultBranch: branch && branch.toString('utf8'), defaultBranchBytes: branch };
    if (headCommit) return { refs, commit: headCommit, ...fromHead(), ...defaultBranch };
    const fallback = await this.fallback(listed, options.signal);
    return {
      refs,
      commit: fallback?.commit ?? null,
      commitSource: fallback?.ref.name ?? null,
      commitSourceBytes: fallback?.ref.nameBytes ?? null,
      ...defaultBranch,
    };
  }

  /** The branch HEAD points at, e.g. `refs/heads/trunk`; null if HEAD is detached. */
  async defaultBranch(options: ReadOptions = {}): Promise<string | null> {
    return (await this.defaultBranchBytes(options.signal))?.toString('utf8') ?? null;
  }

  /** Commit of the default branch, or null when HEAD does not lead to a commit. */
  async headCommit(options: ReadOptions = {}): Promise<string | null> {
    const { exitCode, stdout } = await this.git(['rev-parse', '--verify', '--quiet', 'HEAD^{commit}'], { okExitCodes: [1], ...options });
    return exitCode === 0 ? stdout.toString('utf8').trim() : null;
  }

  /**
   * For each pair, whether `from` is an ancestor of `to` here, i.e. moving a ref from one to the
   * other is a fast-forward. A `from` this repository lacks cannot be an ancestor of anything it
   * has (a clone holds every ancestor of its refs), so it answers false without walking history;
   * so does a side that does not lead to a commit.
   */
  async fastForwards(pairs: readonly { from: string; to: string }[], options: ReadOptions = {}): Promise<boolean[]> {
    if (pairs.length === 0) return [];
    const commits = await this.peelToCommits(
      pairs.flatMap((p) => [p.from, p.to]),
      options.signal,
    );
    const answers: boolean[] = [];
    for (let i = 0; i < pairs.length; i++) {
      const [from, to] = [commits[2 * i], commits[2 * i + 1]];
      if (!from || !to) answers.push(false);
      else answers.push((await this.git(['merge-base', '--is-ancestor', from, to], { okExitCodes: [1], ...options })).exitCode === 0);
    }
    return answers;
  }

  /** Every file of `commit`'s tree, recursively; submodule entries are skipped (never fetched). */
  async listTree(commit: string, options: ReadOptions = {}): Promise<TreeEntry[]> {
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
    await this.git(['ls-tree', '-r', '-z', '--long', '--full-tree', commit], { onStdout, signal: options.signal });
    if (pending.length > 0) throw new GitError(GitErrorCode.GIT_FAILED, 'git ls-tree output ended mid-entry');
    return entries;
  }

  /**
   * Every distinct tree of `commit`'s root tree, by id, each entry exact (see readTrees); trees
   * `options.skip` names are not read. Submodule entries are listed, never fetched.
   */
  async trees(commit: string, options: ReadTreesOptions = {}): Promise<GitTrees> {
    assertObjectId(commit);
    const { stdout } = await this.git(['rev-parse', '--verify', '--end-of-options', `${commit}^{tree}`], { signal: options.signal });
    const root = stdout.toString('latin1').trim();
    assertObjectId(root);
    return readTrees(this.gitDir, this.runtime, root, options);
  }

  /**
   * Yields each entry's content in order through one `git cat-file --batch` process. The next
   * blob is not fetched until the consumer asks for it, and a blob left half-read is skipped.
   * The signal kills git, fails the blob being read and rejects the pending step.
   */
  async *blobs<E extends { readonly sha: string } = TreeEntry>(
    entries: Iterable<E> | AsyncIterable<E>,
    options: ReadOptions = {},
  ): AsyncGenerator<BlobContent<E>> {
    const { signal } = options;
    if (signal?.aborted) throw abortedError('git cat-file', signal);
    const batch = new BlobBatchReader(this.gitDir, this.runtime, signal);
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
  async streamBlobs(
    entries: Iterable<TreeEntry> | AsyncIterable<TreeEntry>,
    onBlob: (blob: BlobContent) => Promise<void>,
    options: ReadOptions = {},
  ): Promise<void> {
    for await (const blob of this.blobs(entries, options)) await onBlob(blob);
  }

  /**
   * `git bundle create <file> --all`; null for a repository without refs (git refuses empty
   * bundles). Pass the refs when already read, to save a git process.
   */
  async createBundle(outFile: string, knownRefs?: readonly GitRef[], options: ReadOptions = {}): Promise<CreatedBundle | null> {
    if ((knownRefs ?? (await this.refs(options))).length === 0) return null;
    const file = path.resolve(outFile);
    await this.git(['bundle', 'create', '--quiet', file, '--all'], options);
    return { path: file, sizeBytes: (await stat(file)).size };
  }

  /**
   * A bundle of every ref without what `prerequisites` (the refs of an earlier snapshot) reach:
   * only what is new. Each is excluded as the object it is — a tag object too, not only the
   * commit it peels to, or every annotated tag would be stored again at each visit. Objects this
   * repository lacks (rewritten away upstream) are left out, so every prerequisite the bundle
   * names is one a restore of the earlier snapshot has. Null when nothing is new: git refuses
   * to write an empty bundle.
   */
  async createIncrementalBundle(
    outFile: string,
    prerequisites: readonly string[],
    options: ReadOptions = {},
  ): Promise<CreatedBundle | null> {
    const present = await this.presentObjects([...new Set(prerequisites)], options.signal);
    const file = path.resolve(outFile);
    // Thousands of refs make thousands of prerequisites: stdin, not the command line.
    const input = present.map((id) => `^${id}\n`).join('');
    try {
      await this.git(['bundle', 'create', '--quiet', file, '--all', '--stdin'], { input, ...options });
    } catch (error) {
      // git runs with LC_ALL=C, so its refusal reads the same everywhere.
      if (error instanceof GitError && /refusing to create empty bundle/i.test(`${error.message}\n${error.detail ?? ''}`)) return null;
      throw error;
    }
    return { path: file, sizeBytes: (await stat(file)).size };
  }

  private async listRefs(signal?: AbortSignal): Promise<ListedRef[]> {
    return parseRefList((await this.git(['for-each-ref', LIST_REFS_FORMAT], { signal })).stdout);
  }

  private async defaultBranchBytes(signal?: AbortSignal): Promise<Buffer | null> {
    const { exitCode, stdout } = await this.git(['symbolic-ref', '--quiet', 'HEAD'], { okExitCodes: [1], signal });
    if (exitCode !== 0) return null;
    return stdout.at(-1) === 0x0a ? stdout.subarray(0, -1) : stdout;
  }

  /** The ref to store when HEAD leads to no commit (rare: at most two more git processes). */
  private async fallback(listed: readonly ListedRef[], signal?: AbortSignal): Promise<{ ref: GitRef; commit: string } | null> {
    const known = listed.map((r) => ({ ref: r.ref, commit: knownCommit(r) }));
    const deep = known.filter((r) => r.commit === undefined);
    const peeled =
      deep.length > 0
        ? await this.peelToCommits(
            deep.map((r) => r.ref.sha),
            signal,
          )
        : [];
    const candidates = known.map((r) => ({ ref: r.ref, commit: r.commit === undefined ? (peeled[deep.indexOf(r)] ?? null) : r.commit }));
    return chooseFallbackRef(candidates, async (tags) => {
      // Only when no branch leads to a commit is it worth asking git for the tags by date.
      const order = await this.tagsNewestFirst(signal);
      const rank = (name: Buffer) => order.findIndex((t) => t.equals(name));
      return [...tags].sort((a, b) => rank(a.ref.nameBytes) - rank(b.ref.nameBytes));
    }) as Promise<{ ref: GitRef; commit: string } | null>;
  }

  /** The objects of `shas` this repository has. */
  private async presentObjects(shas: readonly string[], signal?: AbortSignal): Promise<string[]> {
    shas.forEach(assertObjectId);
    if (shas.length === 0) return [];
    const { stdout } = await this.git(['cat-file', '--batch-check=%(objectname) %(objecttype)'], {
      input: shas.map((sha) => `${sha}\n`).join(''),
      signal,
    });
    const lines = stdout.toString('latin1').split('\n');
    return shas.filter((sha, i) => lines[i] !== undefined && !lines[i]!.endsWith(' missing') && lines[i]!.startsWith(sha));
  }

  /** `sha^{commit}` for each object (tags of tags), null where it is not a commit. */
  private async peelToCommits(shas: readonly string[], signal?: AbortSignal): Promise<(string | null)[]> {
    shas.forEach(assertObjectId);
    const input = shas.map((sha) => `${sha}^{commit}\n`).join('');
    const { stdout } = await this.git(['cat-file', '--batch-check=%(objectname) %(objecttype)'], { input, signal });
    const lines = stdout.toString('latin1').split('\n');
    return shas.map((_, i) => {
      const [id = '', type = ''] = (lines[i] ?? '').split(' ');
      return type === 'commit' && OBJECT_ID.test(id) ? id : null;
    });
  }

  private async tagsNewestFirst(signal?: AbortSignal): Promise<Buffer[]> {
    // The last --sort is the primary key: newest first, ties by name.
    const { stdout } = await this.git(['for-each-ref', '--sort=refname', '--sort=-creatordate', '--format=%(refname)', 'refs/tags/'], {
      signal,
    });
    const names: Buffer[] = [];
    for (let start = 0, end = stdout.indexOf(0x0a); end >= 0; start = end + 1, end = stdout.indexOf(0x0a, start)) {
      names.push(Buffer.from(stdout.subarray(start, end)));
    }
    return names;
  }

  private git(
    args: string[],
    options: { okExitCodes?: number[]; onStdout?: (chunk: Buffer) => void; input?: string; signal?: AbortSignal } = {},
  ) {
    return runGit(args, { cwd: this.gitDir, runtime: this.runtime, ...options });
  }
}

function fromHead(): Pick<RepositoryHead, 'commitSource' | 'commitSourceBytes'> {
  return { commitSource: HEAD, commitSourceBytes: Buffer.from(HEAD) };
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

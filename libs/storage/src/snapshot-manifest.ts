import type { Readable } from 'node:stream';
import { exactText, MappedReason } from './object-key-rules';
import type { SnapshotBundleLink } from './bundle-chain';
import type { SnapshotLfs } from './lfs-objects';
import { manifestKey } from './snapshot-prefix';
import { StorageError, StorageErrorCode } from './storage.error';

/**
 * One file of the repository's tree at the archived commit. Paths and ref names are bytes in
 * git, not necessarily UTF-8: where the bytes are not valid UTF-8, the text field is only for
 * people (invalid bytes shown as U+FFFD) and the `...Base64` field beside it is the truth.
 */
export interface SnapshotFileEntry {
  /** Path in the tree as git lists it, `/`-separated. */
  path: string;
  /** The exact path bytes, present only when they are not valid UTF-8. */
  pathBase64?: string;
  /** Where the bytes are: `<prefix>files/<path>`, or `<prefix>mapped/...` when `mappedBecause` is set. */
  key: string;
  /** Why the file is not at `<prefix>files/<path>` (invalid UTF-8, too long, `..`, a conflict...). */
  mappedBecause?: MappedReason;
  size: number;
  /** Git file mode: `100644`, `100755` or `120000` (symlink; the content is the link target). */
  mode: string;
  /** The blob's git object id: ties the stored copy back to the repository. */
  gitSha: string;
  /**
   * sha256 of the stored bytes, computed while uploading (manifests v2/v3). Absent for files
   * walked from a v4 snapshot's tree listings: `gitSha` names the exact bytes and is what a
   * verifier recomputes (sha1 of `blob <size>\0<bytes>`).
   */
  sha256?: string;
}

export interface SnapshotRef {
  /** Full ref name, e.g. `refs/heads/main`, `refs/tags/v1.0`. */
  name: string;
  /** The exact name bytes, present only when they are not valid UTF-8. */
  nameBase64?: string;
  sha: string;
  /** For annotated tags: the object the tag points at. */
  peeledSha?: string;
}

export interface SnapshotBundle {
  /** Object key of the `git bundle` with the full history (`<prefix>repo.bundle`). */
  key: string;
  size: number;
  sha256: string;
}

/**
 * `<prefix>manifest.json`, written after everything else: a snapshot is complete iff its
 * manifest exists. Bump `version` for any change that breaks readers.
 *
 * Version 2: a file's bytes are at its `key`, no longer always at `files/<path>`; exact bytes
 * of non-UTF-8 names; `commitSource`; `empty` means "no ref leads to a commit". Later, still
 * version 2 because readers may ignore them: the optional `outcome`, `refsHash`, `unchanged`
 * and `contentFrom` of a visit. An unchanged visit (its refs equal the previous visit's) stores
 * no files and no bundle: `files` is empty, `bundle` null, and `fileCount`, `byteCount`,
 * `mappedPathCount`, `commit`... describe the content of the snapshot `contentFrom` names.
 */
export interface SnapshotManifest {
  /**
   * 4: files are listed by `tree` (trees/ listings), not `files`; 3: bundles may be increments
   * (bundleKind, bundleChain); 2: `bundle` is always full.
   */
  version: 2 | 3 | 4;
  /** The URL as submitted. */
  url: string;
  /** The URL the bucket name derives from. */
  normalizedUrl: string;
  archiveId: string;
  /** Commit whose tree is stored (see `commitSource`); null for an empty repository. */
  commit: string | null;
  /** `HEAD` when it resolves to a commit; otherwise the ref chosen instead (e.g. `refs/heads/main`). */
  commitSource: string | null;
  commitSourceBase64?: string;
  /** The branch HEAD names (it may not exist); null when HEAD is detached. */
  defaultBranch: string | null;
  defaultBranchBase64?: string;
  /**
   * Every ref of the snapshot. Absent exactly in an unchanged visit's manifest: its refs are
   * those `contentFrom`'s manifest lists (same `refsHash`), so a revisit of a repository with
   * thousands of refs still adds only a few KB (read them with readManifestRefs).
   */
  refs?: SnapshotRef[];
  /**
   * Versions 2 and 3: every file of the stored commit's tree (empty for an unchanged visit).
   * Absent from version 4: walk `tree` instead (libs/storage snapshot-files.ts reads both).
   */
  files?: SnapshotFileEntry[];
  /**
   * Version 4: the stored commit's root tree id; its listing and every listing below it are at
   * `trees/<id>` (tree-listing.ts). Null when there is no commit, and for an unchanged visit
   * (see `contentFrom`).
   */
  tree?: string | null;
  fileCount: number;
  byteCount: number;
  /** How many files are not at `files/<path>` but under `mapped/` (see each file's `mappedBecause`). */
  mappedPathCount: number;
  /**
   * This snapshot's own bundle: `repo.bundle` (full, restorable alone) or `increment.bundle`
   * (only what the snapshot before it lacked; see `bundleChain`). Null when it stores none: the
   * repository has no refs, nothing is new since the snapshot before, or an unchanged visit.
   */
  bundle: SnapshotBundle | null;
  /** Which kind `bundle` is; absent in manifests from before increments (always full). */
  bundleKind?: 'full' | 'incremental';
  /**
   * Every bundle a restore of this snapshot applies, a full one first (readBundleChain), then
   * its refs are set from `refs`. Absent for an unchanged visit (see `contentFrom`) and in
   * manifests from before increments (their `bundle` is full).
   */
  bundleChain?: SnapshotBundleLink[];
  /** ISO 8601 UTC instants of the archive's stages. */
  timestamps: { createdAt: string; injectedAt: string; startedAt: string; finishedAt: string };
  /** True when no ref (branch, tag or other) leads to a commit: there are no files to store. */
  empty: boolean;
  /** `changed`: this snapshot holds the content; `unchanged`: the refs had not moved, see `contentFrom`. Absent in older manifests (changed). */
  outcome?: 'changed' | 'unchanged';
  /** The hash of `refs` (libs/git refsHash) the next visit compares its probe against. */
  refsHash?: string;
  /** Present (true) exactly when `outcome` is `unchanged`. */
  unchanged?: true;
  /**
   * Only for an unchanged visit: the snapshot in the same bucket whose files and bundle hold
   * this visit's content. Always a changed snapshot (a chain of unchanged visits is followed).
   */
  contentFrom?: SnapshotContentRef;
  /**
   * The Git LFS pointers of the stored tree (and, when configured, of every ref's tip) and
   * whether each object is stored under `lfs/`. Optional, so still version 4: older manifests
   * and snapshots without pointers have none. An unchanged visit's is that of `contentFrom`.
   */
  lfs?: SnapshotLfs;
}

export interface SnapshotContentRef {
  archiveId: string;
  /** The snapshot's prefix in the bucket (`snapshots/...`/), where its manifest and bundle are. */
  prefix: string;
}

/** What the manifest needs of RepositoryReader.head(); structural, so storage needs no git import. */
export interface ManifestHeadSource {
  readonly refs: readonly { nameBytes: Buffer; sha: string; peeledSha?: string }[];
  readonly commit: string | null;
  readonly commitSourceBytes: Buffer | null;
  readonly defaultBranchBytes: Buffer | null;
}

export type ManifestHeadFields = Pick<
  SnapshotManifest,
  'commit' | 'commitSource' | 'commitSourceBase64' | 'defaultBranch' | 'defaultBranchBase64' | 'refs' | 'empty'
>;

/** The manifest's fields about refs and the stored commit, names kept exact. */
export function manifestHeadFields(head: ManifestHeadSource): ManifestHeadFields {
  const source = head.commitSourceBytes && exactText(head.commitSourceBytes);
  const branch = head.defaultBranchBytes && exactText(head.defaultBranchBytes);
  return {
    commit: head.commit,
    commitSource: source ? source.text : null,
    ...(source?.base64 !== undefined && { commitSourceBase64: source.base64 }),
    defaultBranch: branch ? branch.text : null,
    ...(branch?.base64 !== undefined && { defaultBranchBase64: branch.base64 }),
    refs: manifestRefs(head.refs),
    empty: head.commit === null,
  };
}

/** The manifest's `refs`, names kept exact. */
export function manifestRefs(refs: ManifestHeadSource['refs']): SnapshotRef[] {
  return refs.map(({ nameBytes, sha, peeledSha }) => {
    const name = exactText(nameBytes);
    return {
      name: name.text,
      ...(name.base64 !== undefined && { nameBase64: name.base64 }),
      sha,
      ...(peeledSha !== undefined && { peeledSha }),
    };
  });
}

/** The snapshot's refs: its own list, or for an unchanged visit the list of the snapshot holding its content. */
export async function readManifestRefs(
  store: { getObject(bucket: string, key: string): Promise<Readable> },
  bucket: string,
  manifest: Pick<SnapshotManifest, 'refs' | 'contentFrom'>,
): Promise<SnapshotRef[]> {
  if (manifest.refs) return manifest.refs;
  if (!manifest.contentFrom) return [];
  return (await readSnapshotManifest(store, bucket, manifest.contentFrom.prefix)).refs ?? [];
}

/** The inverse of manifestRefs: each ref's exact name bytes and what it points at. */
export function refsOfManifest(refs: readonly SnapshotRef[]): { nameBytes: Buffer; sha: string }[] {
  return refs.map((ref) => ({
    nameBytes: ref.nameBase64 !== undefined ? Buffer.from(ref.nameBase64, 'base64') : Buffer.from(ref.name, 'utf8'),
    sha: ref.sha,
  }));
}

/** Where the content of the snapshot at `prefix` is: its own, or the one its manifest points at. */
export function contentSnapshotOf(manifest: Pick<SnapshotManifest, 'archiveId' | 'contentFrom'>, prefix: string): SnapshotContentRef {
  return manifest.contentFrom ?? { archiveId: manifest.archiveId, prefix };
}

/** A manifest maps every file but holds no file bytes; anything bigger is not one we wrote. */
const MAX_MANIFEST_BYTES = 256 * 1024 * 1024;

/** Reads `<prefix>manifest.json`; the store's NOT_FOUND error when the snapshot is not complete. */
export async function readSnapshotManifest(
  store: { getObject(bucket: string, key: string): Promise<Readable> },
  bucket: string,
  prefix: string,
): Promise<SnapshotManifest> {
  const stream = await store.getObject(bucket, manifestKey(prefix));
  return parseManifest(stream, `${bucket}/${manifestKey(prefix)}`);
}

async function parseManifest(stream: Readable, label: string): Promise<SnapshotManifest> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_MANIFEST_BYTES) {
      stream.destroy();
      throw new StorageError(StorageErrorCode.INVALID, `${label} is larger than ${MAX_MANIFEST_BYTES} bytes; it is not a manifest`);
    }
    chunks.push(chunk);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as SnapshotManifest;
}

/** Files stored under `mapped/` rather than at their readable key. */
export function mappedPathCount(files: readonly SnapshotFileEntry[]): number {
  return files.reduce((count, file) => count + (file.mappedBecause === undefined ? 0 : 1), 0);
}

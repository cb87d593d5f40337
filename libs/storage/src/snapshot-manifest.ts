/** One file of the repository's tree at the archived commit, stored at `<prefix>files/<path>`. */
export interface SnapshotFileEntry {
  /** Path in the tree as git lists it, `/`-separated. */
  path: string;
  size: number;
  /** Git file mode: `100644`, `100755` or `120000` (symlink; the content is the link target). */
  mode: string;
  /** The blob's git object id: ties the stored copy back to the repository. */
  gitSha: string;
  /** sha256 of the stored bytes, computed while uploading: lets anyone verify the copy. */
  sha256: string;
}

export interface SnapshotRef {
  /** Full ref name, e.g. `refs/heads/main`, `refs/tags/v1.0`. */
  name: string;
  sha: string;
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
 */
export interface SnapshotManifest {
  version: 1;
  /** The URL as submitted. */
  url: string;
  /** The URL the bucket name derives from. */
  normalizedUrl: string;
  archiveId: string;
  /** Commit of the default branch whose tree is under `files/`; null for an empty repository. */
  commit: string | null;
  defaultBranch: string | null;
  refs: SnapshotRef[];
  files: SnapshotFileEntry[];
  fileCount: number;
  byteCount: number;
  /** Null when the repository has no commits (git cannot bundle nothing). */
  bundle: SnapshotBundle | null;
  /** ISO 8601 UTC instants of the archive's stages. */
  timestamps: { createdAt: string; injectedAt: string; startedAt: string; finishedAt: string };
  /** True for a repository without any commit. */
  empty: boolean;
}

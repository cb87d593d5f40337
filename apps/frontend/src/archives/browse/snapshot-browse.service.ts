import type { Readable } from 'node:stream';
import { Injectable } from '@nestjs/common';
import type { AuthUser } from '@archiver/auth';
import type { ArchiveRecord } from '@archiver/database';
import {
  exactText,
  lfsEntriesByPath,
  lfsObjectKey,
  listsFilesByTree,
  lookupSnapshotPath,
  ObjectStoreRepository,
  readSnapshotManifest,
  readTreeListing,
  type SnapshotFileEntry,
  type SnapshotLfsEntry,
  type SnapshotManifest,
  StorageError,
  StorageErrorCode,
  type TreeListingEntry,
  type TreeListingSource,
} from '@archiver/storage';
import { ArchiveRequestsService } from '../archive-requests.service';
import { browseErrors } from './browse.error';
import { fileResponseHeaders, type FileResponseHeaders } from './file-content-type';
import { SnapshotIndex, SnapshotIndexCache } from './snapshot-index.cache';
import { listDirectory, listListing, SnapshotTree, type TreeEntryView } from './snapshot-tree';

/**
 * Parsed manifests kept in memory. git/git's (~4,500 files) is ~3 MB of JSON; 64 snapshots
 * within ~128 MB of manifest text keeps a few big repositories and many small ones warm.
 */
const CACHE_LIMITS = { maxEntries: 64, maxWeight: 128 * 1024 * 1024 };
// Per file in a manifest beyond its path and key: sha1, sha256, size, mode and JSON syntax.
const MANIFEST_BYTES_PER_FILE = 220;
/**
 * Directory listings of v4 snapshots, by tree id: immutable, shared by every snapshot (and
 * every repository path) holding the same directory. A few thousand directories stay warm.
 */
const LISTING_CACHE_LIMITS = { maxEntries: 4096, maxWeight: 32 * 1024 * 1024 };
// Per entry of a parsed listing beyond its name: id, mode, size and object overhead.
const LISTING_BYTES_PER_ENTRY = 160;

export interface TreeListing {
  archiveId: string;
  commit: string | null;
  path: string;
  pathBase64?: string;
  entries: TreeEntryView[];
}

export interface FileContent {
  stream: Readable;
  size: number;
  /** An exact validator of the bytes: the sha256 recorded by a v2/v3 manifest, else the git blob id. */
  etag: string;
  /** With LFS_HEADER (and LFS_REASON_HEADER) for a Git LFS pointer. */
  headers: FileResponseHeaders & Record<string, string>;
}

/** A completed snapshot's HEAD tree, listed and read by path; the manifest is the map. */
@Injectable()
export class SnapshotBrowseService {
  private readonly cache = new SnapshotIndexCache<SnapshotIndex>(CACHE_LIMITS);
  private readonly listings = new SnapshotIndexCache<readonly TreeListingEntry[]>(LISTING_CACHE_LIMITS);

  constructor(
    private readonly archives: ArchiveRequestsService,
    private readonly store: ObjectStoreRepository,
  ) {}

  async tree(id: string, user: AuthUser, pathBytes: Buffer): Promise<TreeListing> {
    const { archive, index } = await this.open(id, user);
    const path = exactText(pathBytes);
    const entries = withLfs(await this.directory(archive.bucket!, index, pathBytes, path.text), pathBytes, index.lfs);
    return {
      archiveId: archive.id,
      commit: index.commit,
      path: path.text,
      ...(path.base64 !== undefined && { pathBase64: path.base64 }),
      entries,
    };
  }

  /** The bytes of one file, from wherever its manifest entry's `key` says they are. */
  async file(id: string, user: AuthUser, pathBytes: Buffer): Promise<FileContent> {
    const { archive, index } = await this.open(id, user);
    const path = exactText(pathBytes).text;
    const entry = await this.fileEntry(archive.bucket!, index, pathBytes, path);
    const name = path.slice(path.lastIndexOf('/') + 1);
    const type = entry.mode === '120000' ? 'symlink' : entry.mode === '100755' ? 'executable' : 'file';
    const headers = fileResponseHeaders(name, type);
    const lfs = type === 'symlink' ? undefined : index.lfs?.get(pathBytes.toString('latin1'));
    if (lfs?.status === 'stored') {
      // The pointer's object, verified by its oid when stored: what a checkout with git-lfs shows.
      const stream = await this.store.getObject(archive.bucket!, lfsObjectKey(lfs.oid));
      return { stream, size: lfs.size, etag: lfs.oid, headers: { ...headers, [LFS_HEADER]: 'stored' } };
    }
    // The key, never a key rebuilt from the path: where bytes live is the manifest's to say.
    const stream = await this.store.getObject(archive.bucket!, entry.key);
    const marker: Record<string, string> = lfs ? { [LFS_HEADER]: 'missing', [LFS_REASON_HEADER]: lfs.missing?.code ?? 'LFS_UNKNOWN' } : {};
    return { stream, size: entry.size, etag: entry.sha256 ?? entry.gitSha, headers: { ...headers, ...marker } };
  }

  private async directory(bucket: string, index: SnapshotIndex, pathBytes: Buffer, path: string): Promise<TreeEntryView[]> {
    if (index.tree) {
      const node = index.tree.lookup(pathBytes);
      if (node === undefined) throw browseErrors.pathNotFound(path);
      if (node.kind !== 'dir') throw browseErrors.notADirectory(path);
      return listDirectory(node);
    }
    const node = await lookupSnapshotPath(this.listingsOf(bucket), index.root ?? null, pathBytes);
    if (node === undefined) throw browseErrors.pathNotFound(path);
    if (node.kind !== 'dir') throw browseErrors.notADirectory(path);
    return listListing(node.entries);
  }

  private async fileEntry(bucket: string, index: SnapshotIndex, pathBytes: Buffer, path: string): Promise<SnapshotFileEntry> {
    if (index.tree) {
      const node = index.tree.lookup(pathBytes);
      if (node === undefined) throw browseErrors.pathNotFound(path);
      if (node.kind !== 'file') throw browseErrors.notAFile(path);
      return node.entry;
    }
    const node = await lookupSnapshotPath(this.listingsOf(bucket), index.root ?? null, pathBytes);
    if (node === undefined) throw browseErrors.pathNotFound(path);
    if (node.kind !== 'file') throw browseErrors.notAFile(path);
    return node.file;
  }

  /** Listings of `bucket`, cached by tree id: a listing never changes once written. */
  private listingsOf(bucket: string): TreeListingSource {
    return (treeId) =>
      this.listings.get(`${bucket}/${treeId}`, async () => {
        const entries = await readTreeListing(this.store, bucket, treeId);
        const weight = entries.reduce((sum, entry) => sum + entry.nameBytes.length + LISTING_BYTES_PER_ENTRY, 256);
        return { index: entries, weight };
      });
  }

  private async open(id: string, user: AuthUser): Promise<{ archive: ArchiveRecord; index: SnapshotIndex }> {
    const archive = await this.archives.findVisible(id, user);
    if (archive.status !== 'completed' || archive.bucket === null || archive.prefix === null) {
      throw browseErrors.noSnapshot(id, archive.status);
    }
    try {
      return { archive, index: await this.indexOf(archive.bucket, archive.prefix) };
    } catch (error) {
      if (error instanceof StorageError && error.code === StorageErrorCode.NOT_FOUND) throw browseErrors.manifestMissing(id);
      throw error;
    }
  }

  /**
   * An unchanged visit lists no files: its tree is that of the snapshot its manifest's
   * `contentFrom` names (the same object in the cache, not a second copy).
   */
  private indexOf(bucket: string, prefix: string): Promise<SnapshotIndex> {
    return this.cache.get(`${bucket}/${prefix}`, async () => {
      const manifest = await readSnapshotManifest(this.store, bucket, prefix);
      const weight = manifestWeight(manifest);
      if (manifest.contentFrom !== undefined && manifest.contentFrom.prefix !== prefix) {
        const content = await this.indexOf(bucket, manifest.contentFrom.prefix);
        return { index: { commit: manifest.commit, tree: content.tree, root: content.root, lfs: content.lfs }, weight };
      }
      // A v4 manifest names its root tree: directories are read (and cached) as they are browsed.
      const lfs = lfsEntriesByPath(manifest.lfs);
      if (listsFilesByTree(manifest)) return { index: { commit: manifest.commit, root: manifest.tree ?? null, lfs }, weight };
      return { index: { commit: manifest.commit, tree: SnapshotTree.fromFiles(manifest.files ?? []), lfs }, weight };
    });
  }
}

/** Says a file is a Git LFS pointer: `stored` (the object's bytes are served) or `missing` (the pointer's are). */
export const LFS_HEADER = 'X-Archiver-Lfs';
/** For a missing object: why (an LfsMissingCode, e.g. LFS_NOT_ON_SERVER). */
export const LFS_REASON_HEADER = 'X-Archiver-Lfs-Reason';

/** A directory's entries with what its LFS pointers stand for. */
function withLfs(entries: TreeEntryView[], dirBytes: Buffer, lfs: ReadonlyMap<string, SnapshotLfsEntry> | undefined): TreeEntryView[] {
  if (!lfs || lfs.size === 0) return entries;
  return entries.map((entry) => {
    if (entry.type === 'dir' || entry.type === 'symlink') return entry;
    const name = entry.nameBase64 !== undefined ? Buffer.from(entry.nameBase64, 'base64') : Buffer.from(entry.name, 'utf8');
    const full = dirBytes.length === 0 ? name : Buffer.concat([dirBytes, Buffer.from('/'), name]);
    const pointer = lfs.get(full.toString('latin1'));
    if (!pointer) return entry;
    const stored = pointer.status === 'stored';
    return {
      ...entry,
      ...(stored && { size: pointer.size }),
      lfs: true,
      lfsStatus: pointer.status,
      lfsSize: pointer.size,
      ...(!stored && pointer.missing && { lfsMissing: pointer.missing }),
    };
  });
}

/** Roughly the manifest's JSON size, without serialising it again. */
function manifestWeight(manifest: SnapshotManifest): number {
  return (manifest.files ?? []).reduce((sum, file) => sum + file.path.length + file.key.length + MANIFEST_BYTES_PER_FILE, 1024);
}

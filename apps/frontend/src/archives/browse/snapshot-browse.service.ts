import type { Readable } from 'node:stream';
import { Injectable } from '@nestjs/common';
import type { AuthUser } from '@archiver/auth';
import type { ArchiveRecord } from '@archiver/database';
import {
  exactText,
  ObjectStoreRepository,
  readSnapshotManifest,
  type SnapshotManifest,
  StorageError,
  StorageErrorCode,
} from '@archiver/storage';
import { ArchiveRequestsService } from '../archive-requests.service';
import { browseErrors } from './browse.error';
import { fileResponseHeaders, type FileResponseHeaders } from './file-content-type';
import { SnapshotIndex, SnapshotIndexCache } from './snapshot-index.cache';
import { listDirectory, SnapshotTree, type TreeEntryView } from './snapshot-tree';

/**
 * Parsed manifests kept in memory. git/git's (~4,500 files) is ~3 MB of JSON; 64 snapshots
 * within ~128 MB of manifest text keeps a few big repositories and many small ones warm.
 */
const CACHE_LIMITS = { maxEntries: 64, maxWeight: 128 * 1024 * 1024 };
// Per file in a manifest beyond its path and key: sha1, sha256, size, mode and JSON syntax.
const MANIFEST_BYTES_PER_FILE = 220;

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
  sha256: string;
  headers: FileResponseHeaders;
}

/** A completed snapshot's HEAD tree, listed and read by path; the manifest is the map. */
@Injectable()
export class SnapshotBrowseService {
  private readonly cache = new SnapshotIndexCache(CACHE_LIMITS);

  constructor(
    private readonly archives: ArchiveRequestsService,
    private readonly store: ObjectStoreRepository,
  ) {}

  async tree(id: string, user: AuthUser, pathBytes: Buffer): Promise<TreeListing> {
    const { archive, index } = await this.open(id, user);
    const path = exactText(pathBytes);
    const node = index.tree.lookup(pathBytes);
    if (node === undefined) throw browseErrors.pathNotFound(path.text);
    if (node.kind !== 'dir') throw browseErrors.notADirectory(path.text);
    return {
      archiveId: archive.id,
      commit: index.commit,
      path: path.text,
      ...(path.base64 !== undefined && { pathBase64: path.base64 }),
      entries: listDirectory(node),
    };
  }

  /** The bytes of one file, from wherever its manifest entry's `key` says they are. */
  async file(id: string, user: AuthUser, pathBytes: Buffer): Promise<FileContent> {
    const { archive, index } = await this.open(id, user);
    const path = exactText(pathBytes).text;
    const node = index.tree.lookup(pathBytes);
    if (node === undefined) throw browseErrors.pathNotFound(path);
    if (node.kind !== 'file') throw browseErrors.notAFile(path);
    const { entry } = node;
    const name = path.slice(path.lastIndexOf('/') + 1);
    const type = entry.mode === '120000' ? 'symlink' : entry.mode === '100755' ? 'executable' : 'file';
    // The key, never a key rebuilt from the path: where bytes live is the manifest's to say.
    const stream = await this.store.getObject(archive.bucket!, entry.key);
    return { stream, size: entry.size, sha256: entry.sha256, headers: fileResponseHeaders(name, type) };
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
        return { index: { commit: manifest.commit, tree: content.tree }, weight };
      }
      return { index: { commit: manifest.commit, tree: SnapshotTree.fromFiles(manifest.files) }, weight };
    });
  }
}

/** Roughly the manifest's JSON size, without serialising it again. */
function manifestWeight(manifest: SnapshotManifest): number {
  return manifest.files.reduce((sum, file) => sum + file.path.length + file.key.length + MANIFEST_BYTES_PER_FILE, 1024);
}

import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { ArchiveRepository, VerificationRepository, type VerificationResult } from '@archiver/database';
import { fsckRepository } from '@archiver/git';
import {
  gitTreeIdOf,
  ObjectStoreRepository,
  readTreeListing,
  type SnapshotFileEntry,
  StorageError,
  StorageErrorCode,
  type TreeListingEntry,
  treeListingKey,
  walkSnapshotFiles,
} from '@archiver/storage';
import { SnapshotCheckCode, SnapshotCheckError } from '../bundle/snapshot-check.error';
import { SnapshotRestorer, type StoredSnapshot } from '../bundle/snapshot-restorer';
import { WorkDirs } from '../clone/work-dir';
import { fileMismatch, StoredFileDigest } from './stored-file.digest';
import { checkStoredLfsObjects } from './stored-lfs.check';

/** Stored files read at once: enough to hide MinIO's latency, few enough to leave visits room. */
const FILE_READS_AT_ONCE = 4;

/**
 * A restore drill of one completed snapshot: restore its bundle chain as a person would (each
 * bundle checked against the manifest and by `git bundle verify`), `git fsck` the result,
 * compare refs and HEAD with the manifest, then read every stored file and check its size,
 * git blob id and (where a v2/v3 manifest records one) sha256, and every stored Git LFS object's
 * sha256 and size. The result — a pass, or the first failure naming the object or ref —
 * is recorded on the archive; only our own outages (storage, database) fail the job.
 */
@Injectable()
export class SnapshotVerifier {
  private readonly logger = new Logger(SnapshotVerifier.name);

  constructor(
    private readonly archives: ArchiveRepository,
    private readonly verifications: VerificationRepository,
    private readonly store: ObjectStoreRepository,
    private readonly restorer: SnapshotRestorer,
    private readonly workDirs: WorkDirs,
  ) {}

  async verify(archiveId: string, signal: AbortSignal): Promise<VerificationResult | null> {
    const archive = await this.archives.findById(archiveId);
    if (!archive || archive.status !== 'completed' || !archive.bucket || !archive.prefix) {
      this.logger.warn({ msg: 'not a completed snapshot: nothing to verify', archiveId });
      return null;
    }
    let result: VerificationResult;
    try {
      await this.check(archiveId, archive.bucket, archive.prefix, signal);
      result = { passed: true };
    } catch (error) {
      if (!(error instanceof SnapshotCheckError)) throw error;
      result = { passed: false, code: error.code, message: error.message };
    }
    await this.verifications.record(archiveId, result, new Date());
    this.logger.log({ msg: 'restore drill finished', archiveId, ...result });
    return result;
  }

  private async check(archiveId: string, bucket: string, prefix: string, signal: AbortSignal): Promise<void> {
    const snapshot = await this.restorer.load(bucket, prefix);
    const dir = await this.workDirs.create(archiveId, randomUUID());
    try {
      const gitDir = await this.restorer.restore(snapshot, dir, signal);
      const fsck = await fsckRepository(gitDir, { signal });
      if (fsck !== null) throw new SnapshotCheckError(SnapshotCheckCode.FSCK_FAILED, `git fsck of the restored repository failed: ${fsck}`);
    } finally {
      await this.workDirs.remove(dir);
    }
    await this.checkFiles(snapshot, signal);
    await checkStoredLfsObjects(this.store, snapshot.bucket, snapshot.content.lfs, signal);
  }

  /** Every file the snapshot lists (walkSnapshotFiles: a v4 tree's listings, or v2/v3 `files`). */
  private async checkFiles(snapshot: StoredSnapshot, signal: AbortSignal): Promise<void> {
    const listings = (treeId: string) => this.checkedListing(snapshot.bucket, treeId);
    const files = walkSnapshotFiles(this.store, snapshot.bucket, snapshot.content, { listings })[Symbol.asyncIterator]();
    // Many paths may map to one stored object: read each object once.
    const checked = new Set<string>();
    // One walk feeds every lane; a lane waits for the walk only between files.
    let walking: Promise<unknown> = Promise.resolve();
    const nextFile = async (): Promise<SnapshotFileEntry | undefined> => {
      for (;;) {
        const step = walking.then(() => files.next());
        walking = step.catch(() => undefined);
        const next = await step;
        if (next.done) return undefined;
        if (!checked.has(next.value.key)) {
          checked.add(next.value.key);
          return next.value;
        }
      }
    };
    const readNext = async (): Promise<void> => {
      for (let file = await nextFile(); file; file = await nextFile()) {
        signal.throwIfAborted();
        await this.checkFile(snapshot.bucket, file, signal);
      }
    };
    await Promise.all(Array.from({ length: FILE_READS_AT_ONCE }, readNext));
  }

  /** A v4 snapshot's listing, read and checked against its tree id: a wrong listing would hide files. */
  private async checkedListing(bucket: string, treeId: string): Promise<TreeListingEntry[]> {
    const key = treeListingKey(treeId);
    let entries: TreeListingEntry[];
    try {
      entries = await readTreeListing(this.store, bucket, treeId);
    } catch (error) {
      if (error instanceof StorageError && error.code === StorageErrorCode.NOT_FOUND) {
        throw new SnapshotCheckError(SnapshotCheckCode.MISSING_OBJECT, `${bucket}/${key} (a directory listing) is missing`);
      }
      if (error instanceof StorageError && error.code === StorageErrorCode.INVALID) {
        throw new SnapshotCheckError(SnapshotCheckCode.FILE_CHECKSUM_MISMATCH, error.message, { cause: error });
      }
      throw error;
    }
    const actual = gitTreeIdOf(entries, treeId.length === 64 ? 'sha256' : 'sha1');
    if (actual !== treeId) {
      throw new SnapshotCheckError(
        SnapshotCheckCode.FILE_CHECKSUM_MISMATCH,
        `${bucket}/${key} does not list the archived directory: its entries make tree ${actual}`,
      );
    }
    return entries;
  }

  private async checkFile(bucket: string, file: SnapshotFileEntry, signal: AbortSignal): Promise<void> {
    let stream;
    try {
      stream = await this.store.getObject(bucket, file.key);
    } catch (error) {
      if (error instanceof StorageError && error.code === StorageErrorCode.NOT_FOUND) {
        throw new SnapshotCheckError(
          SnapshotCheckCode.MISSING_OBJECT,
          `${bucket}/${file.key} (file ${JSON.stringify(file.path)}) is missing`,
        );
      }
      throw error;
    }
    const digest = new StoredFileDigest(file.size, file.gitSha);
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (signal.aborted) {
        stream.destroy();
        signal.throwIfAborted();
      }
      digest.update(chunk);
    }
    const mismatch = fileMismatch(digest.digest(), file);
    if (mismatch) {
      throw new SnapshotCheckError(
        SnapshotCheckCode.FILE_CHECKSUM_MISMATCH,
        `${bucket}/${file.key} (file ${JSON.stringify(file.path)}) does not hold the archived bytes: ${mismatch}`,
      );
    }
  }
}

import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { ArchiveRepository, VerificationRepository, type VerificationResult } from '@archiver/database';
import { fsckRepository } from '@archiver/git';
import { ObjectStoreRepository, type SnapshotFileEntry, StorageError, StorageErrorCode } from '@archiver/storage';
import { SnapshotCheckCode, SnapshotCheckError } from '../bundle/snapshot-check.error';
import { SnapshotRestorer, type StoredSnapshot } from '../bundle/snapshot-restorer';
import { WorkDirs } from '../clone/work-dir';
import { fileMismatch, StoredFileDigest } from './stored-file.digest';

/** Stored files read at once: enough to hide MinIO's latency, few enough to leave visits room. */
const FILE_READS_AT_ONCE = 4;

/**
 * A restore drill of one completed snapshot: restore its bundle chain as a person would (each
 * bundle checked against the manifest and by `git bundle verify`), `git fsck` the result,
 * compare refs and HEAD with the manifest, then read every stored file and check its size,
 * sha256 and git blob id. The result — a pass, or the first failure naming the object or ref —
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
  }

  private async checkFiles(snapshot: StoredSnapshot, signal: AbortSignal): Promise<void> {
    // Many paths may map to one stored object: read each object once.
    const byKey = new Map<string, SnapshotFileEntry>(snapshot.content.files.map((file) => [file.key, file]));
    const queue = [...byKey.values()];
    const readNext = async (): Promise<void> => {
      for (let file = queue.shift(); file; file = queue.shift()) {
        signal.throwIfAborted();
        await this.checkFile(snapshot.bucket, file, signal);
      }
    };
    await Promise.all(Array.from({ length: Math.min(FILE_READS_AT_ONCE, queue.length) }, readNext));
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

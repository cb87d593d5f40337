import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { Injectable, Logger } from '@nestjs/common';
import { ArchiveRepository } from '@archiver/database';
import { RepositoryReader } from '@archiver/git';
import { PermanentJobError } from '@archiver/queue';
import { consolidatedBundleKey, ObjectStoreRepository, StorageError, StorageErrorCode } from '@archiver/storage';
import { WorkDirs } from '../clone/work-dir';
import { SnapshotCheckError } from './snapshot-check.error';
import { SnapshotRestorer } from './snapshot-restorer';

/**
 * Builds one bundle of a whole snapshot from its chain (a full bundle and increments), like
 * Software Heritage's vault: restore the chain into a scratch repository exactly as a person's
 * restore script would (SnapshotRestorer, which checks every bundle and ref against the
 * manifest), bundle it, and store it beside the snapshot as `consolidated.bundle`. A corrupted
 * snapshot fails the job: it is reported, never papered over.
 */
@Injectable()
export class BundleConsolidator {
  private readonly logger = new Logger(BundleConsolidator.name);

  constructor(
    private readonly archives: ArchiveRepository,
    private readonly store: ObjectStoreRepository,
    private readonly workDirs: WorkDirs,
    private readonly restorer: SnapshotRestorer,
  ) {}

  async consolidate(archiveId: string, signal: AbortSignal): Promise<void> {
    const archive = await this.archives.findById(archiveId);
    if (!archive || archive.status !== 'completed' || !archive.bucket || !archive.prefix) {
      throw new PermanentJobError(`archive ${archiveId} is not a completed snapshot`);
    }
    const { bucket, prefix } = archive;
    const key = consolidatedBundleKey(prefix);
    if (await this.exists(bucket, key)) return;
    const dir = await this.workDirs.create(archiveId, randomUUID());
    try {
      const snapshot = await this.restorer.load(bucket, prefix);
      if (snapshot.refs.length === 0) throw new PermanentJobError(`archive ${archiveId} has no refs: there is nothing to bundle`);
      const gitDir = await this.restorer.restore(snapshot, dir, signal);
      const reader = new RepositoryReader(gitDir);
      const bundle = await reader.createBundle(path.join(dir, 'consolidated.bundle'), await reader.refs({ signal }), { signal });
      if (!bundle) throw new PermanentJobError(`archive ${archiveId} has no refs: there is nothing to bundle`);
      await this.store.putStream(bucket, key, createReadStream(bundle.path), bundle.sizeBytes, 'application/x-git-bundle');
      this.logger.log({ msg: 'consolidated bundle written', archiveId, bundles: snapshot.chain.length, bytes: bundle.sizeBytes });
    } catch (error) {
      if (error instanceof SnapshotCheckError) throw new PermanentJobError(`archive ${archiveId}: ${error.message}`);
      throw error;
    } finally {
      await this.workDirs.remove(dir);
    }
  }

  private async exists(bucket: string, key: string): Promise<boolean> {
    try {
      await this.store.statObject(bucket, key);
      return true;
    } catch (error) {
      if (error instanceof StorageError && error.code === StorageErrorCode.NOT_FOUND) return false;
      throw error;
    }
  }
}

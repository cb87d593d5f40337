import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@archiver/config';
import { ArchiveRepository, type ArchiveRecord, RetentionRepository, TrackedRepositoryRepository } from '@archiver/database';
import {
  LATEST_FOLDER,
  manifestKey,
  ObjectStoreRepository,
  OBJECTS_FOLDER,
  StorageError,
  StorageErrorCode,
  TREES_FOLDER,
} from '@archiver/storage';
import { MaintenanceLease, withMaintenanceLease } from './maintenance-lease';

/**
 * Removes a repository with everything it stored (DELETE /api/repositories/:id?purge=true, an
 * admin's request, answered 202 at once: a bucket of many snapshots takes longer than an HTTP
 * request may). Under the repository's maintenance lease, so no visit runs meanwhile. Each step
 * is safe to crash after and run again, and a repository already gone is simply done:
 * 1. every snapshot's manifest first (newest first), so none reads as complete while it goes;
 * 2. every snapshot prefix and run leftover, then the shared folders (objects/, trees/, latest/)
 *    and the bucket;
 * 3. the visits' rows, then the repository's (its trackers go with it).
 */
@Injectable()
export class RepositoryPurger {
  private readonly logger = new Logger(RepositoryPurger.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly repositories: TrackedRepositoryRepository,
    private readonly retention: RetentionRepository,
    private readonly archives: ArchiveRepository,
    private readonly store: ObjectStoreRepository,
  ) {}

  async purge(repositoryId: string, jobSignal: AbortSignal): Promise<void> {
    const repository = await this.repositories.findById(repositoryId);
    if (!repository) return;
    await withMaintenanceLease(this.retention, repositoryId, this.config.worker.leaseMs, jobSignal, async (lease, signal) => {
      const visits = [...(await this.repositories.allVisits(repositoryId))].reverse();
      const buckets = new Set([repository.bucket, ...visits.map((visit) => visit.bucket)].filter((b): b is string => b !== null));
      for (const visit of visits) await this.removeManifest(visit, lease);
      for (const visit of visits) {
        await lease.confirm();
        if (visit.bucket && visit.prefix) await this.store.removeSnapshotPrefix(visit.bucket, visit.prefix);
      }
      for (const bucket of buckets) await this.emptyBucket(bucket, lease, signal);
      await lease.confirm();
      for (const visit of visits) await this.archives.delete(visit.id);
      // Gone with its row: the lease too. A visit recorded meanwhile keeps the row (its foreign key): the next try removes it.
      await this.repositories.delete(repositoryId);
      this.logger.log({ msg: 'purged repository', repositoryId, visits: visits.length, buckets: [...buckets] });
      return { release: false };
    });
  }

  private async removeManifest(visit: ArchiveRecord, lease: MaintenanceLease): Promise<void> {
    if (!visit.bucket || !visit.prefix) return;
    await lease.confirm();
    await this.store.removeObject(visit.bucket, manifestKey(visit.prefix)).catch((error: unknown) => {
      // A bucket already gone (an earlier try got that far) holds no manifest.
      if (!(error instanceof StorageError && error.code === StorageErrorCode.NOT_FOUND)) throw error;
    });
  }

  private async emptyBucket(bucket: string, lease: MaintenanceLease, signal: AbortSignal): Promise<void> {
    for (const folder of [LATEST_FOLDER, TREES_FOLDER, OBJECTS_FOLDER]) {
      await lease.confirm();
      signal.throwIfAborted();
      await this.store.removeSnapshotPrefix(bucket, folder);
    }
    if (await this.store.removeBucketIfEmpty(bucket)) this.logger.log({ msg: 'removed empty bucket', bucket });
  }
}

import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@archiver/config';
import {
  ArchiveRepository,
  type PruneSummary,
  RetentionRepository,
  retentionPolicyOf,
  TrackedRepositoryRepository,
} from '@archiver/database';
import { foldRefChanges } from '@archiver/git';
import { PermanentJobError } from '@archiver/queue';
import {
  loadRetentionInputs,
  type LoadedSnapshot,
  manifestKey,
  ObjectStoreRepository,
  OBJECTS_FOLDER,
  TREES_FOLDER,
  planRetention,
  readSnapshotManifest,
  referencedObjectKeys,
  StorageError,
  StorageErrorCode,
} from '@archiver/storage';
import { SnapshotCheckError } from '../bundle/snapshot-check.error';
import { ChainRebuilder } from './chain-rebuilder';
import { MaintenanceLease, withMaintenanceLease } from './maintenance-lease';

/**
 * Applies a repository's retention policy. Each step is safe to crash after and run again:
 * a. take the repository's maintenance lease (no visit starts while it is held) and back off
 *    while a visit still runs;
 * b. give kept snapshots that restore through a pruned snapshot's bundles new chains
 *    (ChainRebuilder) — before anything is deleted;
 * c. remove each pruned snapshot, newest first: its manifest (what makes it a snapshot), the
 *    rest of its prefix, then its row, its ref changes folded into the next visit's (so the
 *    changes between kept snapshots read as before);
 * d. remove blobs under `objects/` that no remaining manifest maps a path to;
 * e. record the result and give the lease back.
 */
@Injectable()
export class RepositoryPruner {
  private readonly logger = new Logger(RepositoryPruner.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly repositories: TrackedRepositoryRepository,
    private readonly retention: RetentionRepository,
    private readonly archives: ArchiveRepository,
    private readonly store: ObjectStoreRepository,
    private readonly rebuilder: ChainRebuilder,
  ) {}

  async prune(repositoryId: string, jobSignal: AbortSignal): Promise<void> {
    const repository = await this.repositories.findById(repositoryId);
    if (!repository) throw new PermanentJobError(`repository ${repositoryId} does not exist`);
    await withMaintenanceLease(this.retention, repositoryId, this.config.worker.leaseMs, jobSignal, async (lease, signal) => {
      try {
        const summary = await this.apply(repositoryId, lease.runId, lease, signal);
        // Recorded with the lease given back, in one statement.
        await this.retention.recordPrune(repositoryId, lease.runId, summary, new Date());
        this.logger.log({ msg: 'pruned repository', repositoryId, ...summary });
        return { release: false };
      } catch (error) {
        if (error instanceof SnapshotCheckError) throw new PermanentJobError(`repository ${repositoryId}: ${error.message}`);
        throw error;
      }
    });
  }

  private async apply(repositoryId: string, runId: string, lease: MaintenanceLease, signal: AbortSignal): Promise<PruneSummary> {
    const repository = await this.repositories.findById(repositoryId);
    const policy = repository && retentionPolicyOf(repository);
    const records = await this.retention.completedSnapshots(repositoryId);
    if (!policy || records.length === 0) return { removed: 0, kept: records.length, bytesFreed: 0, rechained: 0 };
    const snapshots = await loadRetentionInputs(
      this.store,
      records.map((r) => ({ id: r.id, finishedAt: r.finishedAt ?? r.createdAt, bucket: r.bucket!, prefix: r.prefix! })),
    );
    const plan = planRetention(snapshots, policy);
    const byId = new Map(snapshots.map((s) => [s.id, s]));
    const at = new Date();
    for (const group of plan.rechain) {
      await lease.confirm();
      await this.rebuilder.rebuild(group, byId, runId, at, signal);
    }
    let bytesFreed = 0;
    for (const { id } of plan.prune) {
      await lease.confirm();
      bytesFreed += await this.removeSnapshot(byId.get(id)!);
    }
    await lease.confirm();
    bytesFreed += await this.collectGarbage(repositoryId, snapshots[0]!.bucket, signal);
    return { removed: plan.prune.length, kept: plan.keep.length, bytesFreed, rechained: plan.rechain.flatMap((g) => g.members).length };
  }

  /** Manifest first (it makes the snapshot complete), then the rest of the prefix, then the row. */
  private async removeSnapshot(snapshot: LoadedSnapshot): Promise<number> {
    let bytes = 0;
    for await (const object of this.store.listObjects(snapshot.bucket, snapshot.prefix)) bytes += object.size;
    await this.store.removeObject(snapshot.bucket, manifestKey(snapshot.prefix));
    await this.store.removeSnapshotPrefix(snapshot.bucket, snapshot.prefix);
    await this.archives.deleteVisit(snapshot.id, foldRefChanges);
    return bytes;
  }

  /** Blobs under `objects/` and listings under `trees/` no remaining snapshot references; their bytes. */
  private async collectGarbage(repositoryId: string, bucket: string, signal: AbortSignal): Promise<number> {
    const referenced = new Set<string>();
    for (const record of await this.retention.completedSnapshots(repositoryId)) {
      if (record.bucket !== bucket || !record.prefix) continue;
      const manifest = await readSnapshotManifest(this.store, bucket, record.prefix).catch((error: unknown) => {
        // No manifest, no snapshot: nothing can read the blobs it mapped (see loadRetentionInputs).
        if (error instanceof StorageError && error.code === StorageErrorCode.NOT_FOUND) return null;
        throw error;
      });
      if (!manifest || manifest.contentFrom) continue; // an unchanged visit's content is read in its own turn
      for (const key of (await referencedObjectKeys(this.store, bucket, manifest, record.prefix)).keys()) referenced.add(key);
    }
    const garbage: string[] = [];
    let bytes = 0;
    // File blobs, and the directory listings (trees/) of snapshots stored by tree.
    for (const folder of [OBJECTS_FOLDER, TREES_FOLDER]) {
      for await (const object of this.store.listObjects(bucket, folder)) {
        if (referenced.has(object.name)) continue;
        garbage.push(object.name);
        bytes += object.size;
      }
    }
    signal.throwIfAborted();
    await this.store.removeObjects(bucket, garbage);
    return bytes;
  }
}

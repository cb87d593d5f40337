import { ApiProperty } from '@nestjs/swagger';
import { retentionPolicyOf, type TrackedRepositoryRecord } from '@archiver/database';
import { describeChainAfter, type RetentionPlan } from '@archiver/storage';

// The REST contract of retention: the policy as shown in GET /api/repositories/:id, and the dry run.

export class RetentionPolicyView {
  @ApiProperty({ description: 'The newest N snapshots', minimum: 0 })
  keepLast!: number;

  @ApiProperty({ description: 'The newest snapshot of each of the last N days that have snapshots (UTC)', minimum: 0 })
  keepDaily!: number;

  @ApiProperty({ description: 'The newest snapshot of each of the last N ISO weeks that have snapshots', minimum: 0 })
  keepWeekly!: number;

  @ApiProperty({ description: 'The newest snapshot of each of the last N months that have snapshots (UTC)', minimum: 0 })
  keepMonthly!: number;
}

export class PruneSummaryView {
  @ApiProperty() removed!: number;
  @ApiProperty() kept!: number;
  @ApiProperty() bytesFreed!: number;
  @ApiProperty({ description: 'Kept snapshots that got a new bundle chain' }) rechained!: number;
}

export class RetentionView {
  @ApiProperty({ type: RetentionPolicyView, nullable: true, description: 'null: every snapshot is kept (the default)' })
  policy!: RetentionPolicyView | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'When a prune last finished' })
  lastPrunedAt!: string | null;

  @ApiProperty({ type: PruneSummaryView, nullable: true, description: 'What the last prune did' })
  lastPrune!: PruneSummaryView | null;
}

export function toRetentionView(repository: TrackedRepositoryRecord): RetentionView {
  return {
    policy: retentionPolicyOf(repository),
    lastPrunedAt: repository.lastPrunedAt?.toISOString() ?? null,
    lastPrune: (repository.lastPruneSummary as PruneSummaryView | null) ?? null,
  };
}

export class KeptSnapshotView {
  @ApiProperty({ format: 'uuid' }) archiveId!: string;

  @ApiProperty({
    type: [String],
    description: 'Why it stays: `last`, `daily 2026-11-29`, `weekly 2026-W48`, `monthly 2026-11`, `newest`, `content of kept <id>`',
  })
  reasons!: string[];

  @ApiProperty({
    description: 'What its restore depends on after the prune: `unchanged`, `new checkpoint` or `new increment on <archive id>`',
  })
  chainAfter!: string;
}

export class PrunedSnapshotView {
  @ApiProperty({ format: 'uuid' }) archiveId!: string;
}

export class RetentionPreviewView {
  @ApiProperty({ type: RetentionPolicyView, nullable: true }) policy!: RetentionPolicyView | null;
  @ApiProperty({ type: [KeptSnapshotView], description: 'Newest first' }) keep!: KeptSnapshotView[];
  @ApiProperty({ type: [PrunedSnapshotView], description: 'Newest first: the order a prune removes them in' }) prune!: PrunedSnapshotView[];
  @ApiProperty({ description: 'Snapshots a prune would remove' }) removedCount!: number;
  @ApiProperty({ description: 'Bytes a prune would free: the pruned snapshots’ prefixes and the blobs only they map' })
  removedBytes!: number;
  @ApiProperty({ description: 'Blobs under objects/ no kept snapshot maps' }) removedObjects!: number;
}

export function toRetentionPreviewView(policy: RetentionPolicyView | null, plan: RetentionPlan): RetentionPreviewView {
  return {
    policy,
    keep: plan.keep.map((k) => ({ archiveId: k.id, reasons: k.reasons, chainAfter: describeChainAfter(k.chainAfter) })),
    prune: plan.prune.map((p) => ({ archiveId: p.id })),
    removedCount: plan.prune.length,
    removedBytes: plan.removedBytes,
    removedObjects: plan.unreferencedObjects.length,
  };
}

export class PruneJobView {
  @ApiProperty({ format: 'uuid' }) repositoryId!: string;
  @ApiProperty({ description: 'The prune job’s state: waiting, delayed (a visit is running), active...' }) state!: string;
}

import { Injectable } from '@nestjs/common';
import { Prisma } from './generated/prisma/client';
import type { ArchiveRecord } from './archive.types';
import { translateDatabaseError } from './database.error';
import { PrismaService } from './prisma.service';

/** A repository's retention policy as stored; every count null means "keep everything". */
export interface StoredRetentionPolicy {
  keepLast: number;
  keepDaily: number;
  keepWeekly: number;
  keepMonthly: number;
}

/** What a prune records on the repository. */
export interface PruneSummary {
  removed: number;
  kept: number;
  bytesFreed: number;
  rechained: number;
}

/**
 * The retention columns of the repository table: the policy, the maintenance lease a prune
 * holds (see NO_MAINTENANCE in archive.repository.ts for how visits respect it) and what the
 * last prune did.
 */
@Injectable()
export class RetentionRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Sets (or with null clears) the policy; false when the repository is gone. */
  async setPolicy(repositoryId: string, policy: StoredRetentionPolicy | null): Promise<boolean> {
    const { count } = await this.run(() =>
      this.prisma.repository.updateMany({
        where: { id: repositoryId },
        data: {
          retentionKeepLast: policy?.keepLast ?? null,
          retentionKeepDaily: policy?.keepDaily ?? null,
          retentionKeepWeekly: policy?.keepWeekly ?? null,
          retentionKeepMonthly: policy?.keepMonthly ?? null,
        },
      }),
    );
    return count === 1;
  }

  /**
   * Takes the repository's maintenance lease for `runId` unless another prune holds a live one.
   * One UPDATE of the repository row: it waits for any visit claim holding that row FOR SHARE,
   * so the running-visit check that follows (countLiveVisits) sees every claim made before it.
   */
  async takeLease(repositoryId: string, runId: string, leaseMs: number): Promise<boolean> {
    const rows = await this.run(
      () => this.prisma.$queryRaw<{ id: string }[]>`
        UPDATE repository SET maintenance_until = now() + ${leaseMs} * interval '1 millisecond', maintenance_run_id = ${runId}::uuid
        WHERE id = ${repositoryId}::uuid
          AND (maintenance_until IS NULL OR maintenance_until < now() OR maintenance_run_id = ${runId}::uuid)
        RETURNING id`,
    );
    return rows.length === 1;
  }

  /** Extends the lease; false when this prune no longer holds it. */
  async renewLease(repositoryId: string, runId: string, leaseMs: number): Promise<boolean> {
    const count = await this.run(
      () => this.prisma.$executeRaw`
        UPDATE repository SET maintenance_until = now() + ${leaseMs} * interval '1 millisecond'
        WHERE id = ${repositoryId}::uuid AND maintenance_run_id = ${runId}::uuid AND maintenance_until >= now()`,
    );
    return count === 1;
  }

  async releaseLease(repositoryId: string, runId: string): Promise<void> {
    await this.run(
      () => this.prisma.$executeRaw`
        UPDATE repository SET maintenance_until = NULL, maintenance_run_id = NULL
        WHERE id = ${repositoryId}::uuid AND maintenance_run_id = ${runId}::uuid`,
    );
  }

  /** Visits of the repository some run is working on right now (a live run lease). */
  async countLiveVisits(repositoryId: string): Promise<number> {
    const rows = await this.run(
      () => this.prisma.$queryRaw<{ n: number }[]>`
        SELECT COUNT(*)::int AS n FROM archive
        WHERE repository_id = ${repositoryId}::uuid AND status = 'running' AND run_expires_at IS NOT NULL AND run_expires_at >= now()`,
    );
    return rows[0]?.n ?? 0;
  }

  /** Records the prune's result and gives the lease back, in one statement. */
  async recordPrune(repositoryId: string, runId: string, summary: PruneSummary, at: Date): Promise<void> {
    await this.run(
      () => this.prisma.$executeRaw`
        UPDATE repository SET last_pruned_at = ${at}, last_prune_summary = ${JSON.stringify(summary)}::jsonb,
          maintenance_until = NULL, maintenance_run_id = NULL, updated_at = now()
        WHERE id = ${repositoryId}::uuid AND maintenance_run_id = ${runId}::uuid`,
    );
  }

  /** The repository's completed snapshots (with a location), oldest first. */
  completedSnapshots(repositoryId: string): Promise<ArchiveRecord[]> {
    return this.run(() =>
      this.prisma.archive.findMany({
        where: { repositoryId, status: 'completed', bucket: { not: null }, prefix: { not: null } },
        orderBy: [{ finishedAt: 'asc' }, { id: 'asc' }],
      }),
    );
  }

  /** Repositories with a policy not pruned for `intervalMs` (or never), longest waiting first. */
  async findDue(intervalMs: number, limit: number): Promise<string[]> {
    const rows = await this.run(
      () => this.prisma.$queryRaw<{ id: string }[]>`
        SELECT id FROM repository
        WHERE GREATEST(retention_keep_last, retention_keep_daily, retention_keep_weekly, retention_keep_monthly) > 0
          AND (last_pruned_at IS NULL OR last_pruned_at < now() - ${intervalMs} * interval '1 millisecond')
        ORDER BY last_pruned_at ASC NULLS FIRST, id LIMIT ${limit}`,
    );
    return rows.map((row) => row.id);
  }

  private async run<T>(query: () => Promise<T>): Promise<T> {
    try {
      return await query();
    } catch (error) {
      throw translateDatabaseError(error, 'Repository not found');
    }
  }
}

/** The policy columns of a repository row; all null is "keep everything". */
export function retentionPolicyOf(repository: {
  retentionKeepLast: number | null;
  retentionKeepDaily: number | null;
  retentionKeepWeekly: number | null;
  retentionKeepMonthly: number | null;
}): StoredRetentionPolicy | null {
  const counts = [
    repository.retentionKeepLast,
    repository.retentionKeepDaily,
    repository.retentionKeepWeekly,
    repository.retentionKeepMonthly,
  ];
  if (counts.every((n) => !n)) return null;
  return {
    keepLast: repository.retentionKeepLast ?? 0,
    keepDaily: repository.retentionKeepDaily ?? 0,
    keepWeekly: repository.retentionKeepWeekly ?? 0,
    keepMonthly: repository.retentionKeepMonthly ?? 0,
  };
}

type RawRow = Record<string, unknown>;

/** Raw repository rows' retention columns under the model's field names. */
export function retentionFromRow(row: RawRow) {
  return {
    retentionKeepLast: (row.retention_keep_last as number | null) ?? null,
    retentionKeepDaily: (row.retention_keep_daily as number | null) ?? null,
    retentionKeepWeekly: (row.retention_keep_weekly as number | null) ?? null,
    retentionKeepMonthly: (row.retention_keep_monthly as number | null) ?? null,
    maintenanceUntil: (row.maintenance_until as Date | null) ?? null,
    maintenanceRunId: (row.maintenance_run_id as string | null) ?? null,
    lastPrunedAt: (row.last_pruned_at as Date | null) ?? null,
    lastPruneSummary: (row.last_prune_summary as Prisma.JsonValue | null) ?? null,
  };
}

import { Injectable } from '@nestjs/common';
import type { ArchiveStatus, RepositoryState } from './generated/prisma/client';
import { translateDatabaseError } from './database.error';
import { PrismaService } from './prisma.service';

/** What the operator's gauges show, read in one round of small aggregate queries. */
export interface OperationsSnapshot {
  archivesByStatus: Partial<Record<ArchiveStatus, number>>;
  repositoriesByState: Partial<Record<RepositoryState, number>>;
  /** Active repositories whose visit is due for longer than the grace given. */
  overdueRepositories: number;
  /** The longest an active, tracked repository has gone without a completed visit (s); 0 when none. */
  maxStalenessSeconds: number;
  /** Files and bytes of the content of every completed changed snapshot (what was archived, before dedup). */
  snapshotFiles: number;
  snapshotBytes: number;
}

/** Aggregates for metrics and alerts (libs/metrics gauges) and for per-user quotas; reads only. */
@Injectable()
export class OperationsRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** How many repositories the user tracks. */
  async trackedBy(subject: string): Promise<number> {
    try {
      return await this.prisma.repositoryTracker.count({ where: { userSubject: subject } });
    } catch (error) {
      throw translateDatabaseError(error, 'Not found');
    }
  }

  /** Bytes of content the user's completed archives stored (unchanged visits store none). */
  async storedBytesOf(subject: string): Promise<number> {
    try {
      const rows = await this.prisma.$queryRaw<{ bytes: number | null }[]>`
        SELECT SUM(byte_count)::float8 AS bytes FROM archive
        WHERE requested_by = ${subject} AND status = 'completed' AND outcome IS DISTINCT FROM 'unchanged'`;
      return rows[0]?.bytes ?? 0;
    } catch (error) {
      throw translateDatabaseError(error, 'Not found');
    }
  }

  async snapshot(overdueAfterSeconds: number): Promise<OperationsSnapshot> {
    try {
      const [archives, repositories, late, content] = await Promise.all([
        this.prisma.$queryRaw<{ status: ArchiveStatus; n: number }[]>`
          SELECT status, COUNT(*)::int AS n FROM archive GROUP BY status`,
        this.prisma.$queryRaw<{ state: RepositoryState; n: number }[]>`
          SELECT state, COUNT(*)::int AS n FROM repository GROUP BY state`,
        this.prisma.$queryRaw<{ overdue: number; staleness: number | null }[]>`
          SELECT COUNT(*) FILTER (WHERE next_visit_at < now() - ${overdueAfterSeconds} * interval '1 second')::int AS overdue,
                 MAX(EXTRACT(EPOCH FROM now() - COALESCE(last_success_at, created_at)))::float8 AS staleness
          FROM repository WHERE state = 'active' AND next_visit_at IS NOT NULL`,
        this.prisma.$queryRaw<{ files: number | null; bytes: number | null }[]>`
          SELECT SUM(file_count)::float8 AS files, SUM(byte_count)::float8 AS bytes
          FROM archive WHERE status = 'completed' AND outcome IS DISTINCT FROM 'unchanged'`,
      ]);
      return {
        archivesByStatus: Object.fromEntries(archives.map((row) => [row.status, row.n])),
        repositoriesByState: Object.fromEntries(repositories.map((row) => [row.state, row.n])),
        overdueRepositories: late[0]?.overdue ?? 0,
        maxStalenessSeconds: late[0]?.staleness ?? 0,
        snapshotFiles: content[0]?.files ?? 0,
        snapshotBytes: content[0]?.bytes ?? 0,
      };
    } catch (error) {
      throw translateDatabaseError(error, 'Not found');
    }
  }
}

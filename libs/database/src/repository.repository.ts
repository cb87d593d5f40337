import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Prisma } from './generated/prisma/client';
import type { ArchiveOutcome, ArchiveRecord, ArchiveStatus } from './archive.types';
import { DatabaseError, DatabaseErrorCode, translateDatabaseError } from './database.error';
import { PrismaService } from './prisma.service';
import { retentionFromRow } from './retention.repository';
import type {
  RepositoryListQuery,
  RepositorySettingsChange,
  RepositoryState,
  RepositorySummary,
  RepositoryTrackerRecord,
  TrackedRepositoryRecord,
} from './repository.types';
import { PERMANENT_VISIT_FAILURES, planNextVisit, VisitResult, VisitSchedulePolicy } from './visit-schedule';

export interface ContentAccess {
  tracked: boolean;
  private: boolean;
  granted: boolean;
}

/**
 * The only code that touches the repository and repository_tracker tables: one repository per
 * normalized URL, shared by everyone who tracks it. Writes that race (two people submitting
 * or tracking the same URL at once) are single statements resolved by the unique keys.
 */
@Injectable()
export class TrackedRepositoryRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** The repository of `normalizedUrl`, created with `url` as first submitted if there is none. */
  async upsertForUrl(url: string, normalizedUrl: string): Promise<TrackedRepositoryRecord> {
    // DO UPDATE (a no-op) rather than DO NOTHING so RETURNING yields the row also when it exists.
    const rows = await this.run(
      () => this.prisma.$queryRaw<RawRow[]>`
        INSERT INTO repository (id, url, normalized_url) VALUES (${randomUUID()}::uuid, ${url}, ${normalizedUrl})
        ON CONFLICT (normalized_url) DO UPDATE SET normalized_url = EXCLUDED.normalized_url
        RETURNING *`,
    );
    return repositoryFromRow(rows[0]!);
  }

  /** Records that `subject` tracks the repository; `created` is false when they already did. */
  async track(repositoryId: string, subject: string, name?: string): Promise<{ tracker: RepositoryTrackerRecord; created: boolean }> {
    // Bounded: each round either inserts, finds the row, or sees it removed by a concurrent untrack.
    for (let attempt = 0; attempt < 3; attempt++) {
      const inserted = await this.run(
        () => this.prisma.$queryRaw<RepositoryTrackerRecord[]>`
          INSERT INTO repository_tracker (repository_id, user_subject, user_name)
          SELECT id, ${subject}, ${name ?? null} FROM repository WHERE id = ${repositoryId}::uuid
          ON CONFLICT DO NOTHING
          RETURNING repository_id AS "repositoryId", user_subject AS "userSubject", user_name AS "userName", created_at AS "createdAt"`,
      );
      if (inserted[0]) return { tracker: inserted[0], created: true };
      const existing = await this.run(() =>
        this.prisma.repositoryTracker.findUnique({ where: { repositoryId_userSubject: { repositoryId, userSubject: subject } } }),
      );
      if (existing) return { tracker: existing, created: false };
      if (!(await this.findById(repositoryId))) throw notFound(repositoryId);
    }
    throw new DatabaseError(DatabaseErrorCode.Conflict, 'The repository is being tracked and untracked concurrently; try again');
  }

  /** Stops `subject` tracking the repository; false when they did not track it. */
  async untrack(repositoryId: string, subject: string): Promise<boolean> {
    const { count } = await this.run(() => this.prisma.repositoryTracker.deleteMany({ where: { repositoryId, userSubject: subject } }));
    return count > 0;
  }

  findById(id: string): Promise<TrackedRepositoryRecord | null> {
    return this.run(() => this.prisma.repository.findUnique({ where: { id } }));
  }

  /** Repositories newest first, each with its newest visit, snapshot count, stored bytes and trackers. */
  async list(query: RepositoryListQuery): Promise<{ items: RepositorySummary[]; total: number }> {
    const conditions: Prisma.Sql[] = [];
    if (query.subject !== undefined) {
      conditions.push(
        Prisma.sql`EXISTS (SELECT 1 FROM repository_tracker t WHERE t.repository_id = r.id AND t.user_subject = ${query.subject})`,
      );
    }
    if (query.state !== undefined) conditions.push(Prisma.sql`r.state = ${query.state}::"RepositoryState"`);
    if (query.q) {
      const pattern = `%${escapeLike(query.q)}%`;
      conditions.push(Prisma.sql`(r.normalized_url ILIKE ${pattern} OR r.url ILIKE ${pattern})`);
    }
    const where = conditions.length ? Prisma.join(conditions, ' AND ') : Prisma.sql`TRUE`;
    const [rows, counted] = await this.run(() =>
      this.prisma.$transaction([
        this.prisma.$queryRaw<RawRow[]>`
          SELECT r.*,
            v.id AS visit_id, v.status AS visit_status, v.outcome AS visit_outcome,
            v.created_at AS visit_created_at, v.finished_at AS visit_finished_at,
            s.snapshot_count, s.stored_bytes,
            (SELECT COUNT(*)::int FROM repository_tracker t WHERE t.repository_id = r.id) AS tracker_count
          FROM repository r
          LEFT JOIN LATERAL (
            SELECT a.id, a.status, a.outcome, a.created_at, a.finished_at FROM archive a
            WHERE a.repository_id = r.id ORDER BY a.created_at DESC, a.id DESC LIMIT 1) v ON TRUE
          CROSS JOIN LATERAL (
            SELECT COUNT(*)::int AS snapshot_count, COALESCE(SUM(a.byte_count), 0)::bigint AS stored_bytes FROM archive a
            WHERE a.repository_id = r.id AND a.status = 'completed') s
          WHERE ${where}
          ORDER BY r.created_at DESC, r.id DESC
          LIMIT ${query.pageSize} OFFSET ${(query.page - 1) * query.pageSize}`,
        this.prisma.$queryRaw<{ total: number }[]>`SELECT COUNT(*)::int AS total FROM repository r WHERE ${where}`,
      ]),
    );
    return { items: rows.map(summaryFromRow), total: counted[0]?.total ?? 0 };
  }

  findByNormalizedUrl(normalizedUrl: string): Promise<TrackedRepositoryRecord | null> {
    return this.run(() => this.prisma.repository.findUnique({ where: { normalizedUrl } }));
  }

  async isTrackedBy(repositoryId: string, subject: string): Promise<boolean> {
    const tracker = await this.run(() =>
      this.prisma.repositoryTracker.findUnique({ where: { repositoryId_userSubject: { repositoryId, userSubject: subject } } }),
    );
    return tracker !== null;
  }

  /**
   * What `subject` may see of the repository: whether they track it, whether its content may be
   * private (it has, or had, a credential: credential_updated_at is set), and whether they
   * proved access with a credential of their own (content_access, set after a visit with it
   * succeeded). Null for an unknown repository.
   */
  async contentAccess(repositoryId: string, subject: string): Promise<ContentAccess | null> {
    const rows = await this.run(
      () => this.prisma.$queryRaw<ContentAccess[]>`
        SELECT t.user_subject IS NOT NULL AS "tracked", r.credential_updated_at IS NOT NULL AS "private",
               COALESCE(t.content_access, false) AS "granted"
        FROM repository r LEFT JOIN repository_tracker t ON t.repository_id = r.id AND t.user_subject = ${subject}
        WHERE r.id = ${repositoryId}::uuid`,
    );
    return rows[0] ?? null;
  }

  /** One repository as listed (newest visit, snapshot count, stored bytes, trackers); null when unknown. */
  async findSummary(id: string): Promise<RepositorySummary | null> {
    const [repository, newest, completed, trackerCount] = await this.run(() =>
      this.prisma.$transaction([
        this.prisma.repository.findUnique({ where: { id } }),
        this.prisma.archive.findFirst({ where: { repositoryId: id }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] }),
        this.prisma.archive.aggregate({
          where: { repositoryId: id, status: 'completed' },
          _count: { _all: true },
          _sum: { byteCount: true },
        }),
        this.prisma.repositoryTracker.count({ where: { repositoryId: id } }),
      ]),
    );
    if (!repository) return null;
    return {
      ...repository,
      lastVisit: newest
        ? {
            archiveId: newest.id,
            status: newest.status,
            outcome: newest.outcome,
            createdAt: newest.createdAt,
            finishedAt: newest.finishedAt,
          }
        : null,
      snapshotCount: completed._count._all,
      storedBytes: completed._sum.byteCount ?? 0n,
      trackerCount,
    };
  }

  /** A repository's visits (its archives), newest first. */
  async listVisits(repositoryId: string, page: number, pageSize: number): Promise<{ items: ArchiveRecord[]; total: number }> {
    const [items, total] = await this.run(() =>
      this.prisma.$transaction([
        this.prisma.archive.findMany({
          where: { repositoryId },
          orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
          skip: (page - 1) * pageSize,
          take: pageSize,
        }),
        this.prisma.archive.count({ where: { repositoryId } }),
      ]),
    );
    return { items, total };
  }

  /** Every visit of the repository, oldest first (for removing them all). */
  allVisits(repositoryId: string): Promise<ArchiveRecord[]> {
    return this.run(() => this.prisma.archive.findMany({ where: { repositoryId }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] }));
  }

  /** Applies the given changes (absent fields stay); null when the repository is gone. */
  async updateSettings(id: string, changes: RepositorySettingsChange): Promise<TrackedRepositoryRecord | null> {
    const { count } = await this.run(() => this.prisma.repository.updateMany({ where: { id }, data: changes }));
    return count === 0 ? null : this.findById(id);
  }

  /** Stops everyone tracking the repository; returns how many trackers were removed. */
  async untrackAll(repositoryId: string): Promise<number> {
    const { count } = await this.run(() => this.prisma.repositoryTracker.deleteMany({ where: { repositoryId } }));
    return count;
  }

  /** Nobody tracks it any more: no further scheduled visits (its history stays). */
  async unscheduleIfUntracked(repositoryId: string): Promise<void> {
    await this.run(
      () => this.prisma.$executeRaw`
        UPDATE repository SET next_visit_at = NULL, updated_at = now()
        WHERE id = ${repositoryId}::uuid
          AND NOT EXISTS (SELECT 1 FROM repository_tracker t WHERE t.repository_id = repository.id)`,
    );
  }

  /** Removes the repository; its visits must be removed first (the archive foreign key restricts). */
  async delete(id: string): Promise<void> {
    await this.run(() => this.prisma.repository.delete({ where: { id } }));
  }

  /**
   * Records how a visit ended on its repository: when it was visited, the adapted interval
   * (planNextVisit) and when it is next due — only while someone tracks it, so a repository
   * archived once through POST /api/archives is never visited again on its own. Permanent
   * failures in a row (read from its latest finished visits, this one included) disable it.
   * The row is locked for the read-compute-write, so two outcomes recorded at once both count.
   */
  async recordVisitOutcome(
    repositoryId: string,
    result: VisitResult,
    policy: VisitSchedulePolicy,
    at = new Date(),
    random = Math.random(),
  ): Promise<TrackedRepositoryRecord | null> {
    return this.run(() =>
      this.prisma.$transaction(async (tx) => {
        const locked = await tx.$queryRaw<RawRow[]>`
          SELECT r.*, EXISTS (SELECT 1 FROM repository_tracker t WHERE t.repository_id = r.id) AS tracked
          FROM repository r WHERE r.id = ${repositoryId}::uuid FOR UPDATE`;
        const row = locked[0];
        if (!row) return null;
        const recent = await tx.$queryRaw<{ status: ArchiveStatus; errorCode: string | null }[]>`
          SELECT status, error_code AS "errorCode" FROM archive
          WHERE repository_id = ${repositoryId}::uuid AND status IN ('completed', 'failed')
          ORDER BY finished_at DESC NULLS LAST, created_at DESC LIMIT ${policy.disableAfterFailures}`;
        const streakEnd = recent.findIndex((v) => v.status !== 'failed' || !PERMANENT_VISIT_FAILURES.has(v.errorCode ?? ''));
        const plan = planNextVisit(repositoryFromRow(row), result, policy, streakEnd === -1 ? recent.length : streakEnd, random);
        const nextVisitAt = plan.disableReason === null && row.tracked === true ? new Date(at.getTime() + plan.delaySeconds * 1000) : null;
        const updated = await tx.$queryRaw<RawRow[]>`
          UPDATE repository SET
            last_visit_at = ${at},
            last_success_at = CASE WHEN ${plan.success} THEN ${at} ELSE last_success_at END,
            last_change_at = CASE WHEN ${plan.changed} THEN ${at} ELSE last_change_at END,
            interval_seconds = ${plan.intervalSeconds},
            consecutive_failures = ${plan.consecutiveFailures},
            next_visit_at = ${nextVisitAt},
            state = CASE WHEN ${plan.disableReason}::text IS NULL THEN state ELSE 'disabled'::"RepositoryState" END,
            state_reason = COALESCE(${plan.disableReason}::text, state_reason),
            updated_at = now()
          WHERE id = ${repositoryId}::uuid RETURNING *`;
        return repositoryFromRow(updated[0]!);
      }),
    );
  }

  private async run<T>(query: () => Promise<T>): Promise<T> {
    try {
      return await query();
    } catch (error) {
      throw translateDatabaseError(error, 'Repository not found');
    }
  }
}

function notFound(id: string): DatabaseError {
  return new DatabaseError(DatabaseErrorCode.NotFound, `Repository ${id} not found`);
}

/** `q` is a plain substring, not a pattern: LIKE's wildcards and escape are matched literally. */
export function escapeLike(q: string): string {
  return q.replace(/[\\%_]/g, (c) => `\\${c}`);
}

type RawRow = Record<string, unknown>;

// Raw queries return column names; map them back to the model's field names.
function repositoryFromRow(row: RawRow): TrackedRepositoryRecord {
  return {
    id: row.id as string,
    url: row.url as string,
    normalizedUrl: row.normalized_url as string,
    bucket: (row.bucket as string | null) ?? null,
    state: row.state as RepositoryState,
    stateReason: (row.state_reason as string | null) ?? null,
    intervalSeconds: row.interval_seconds as number,
    pinnedIntervalSeconds: (row.pinned_interval_seconds as number | null) ?? null,
    nextVisitAt: (row.next_visit_at as Date | null) ?? null,
    lastVisitAt: (row.last_visit_at as Date | null) ?? null,
    lastSuccessAt: (row.last_success_at as Date | null) ?? null,
    lastChangeAt: (row.last_change_at as Date | null) ?? null,
    consecutiveFailures: row.consecutive_failures as number,
    ...retentionFromRow(row),
    createdAt: row.created_at as Date,
    updatedAt: row.updated_at as Date,
    credentialKind: (row.credential_kind as string | null) ?? null,
    credentialUpdatedAt: (row.credential_updated_at as Date | null) ?? null,
    credentialLastUsedAt: (row.credential_last_used_at as Date | null) ?? null,
    hookSecretUpdatedAt: (row.hook_secret_updated_at as Date | null) ?? null,
    credentialSetBy: (row.credential_set_by as string | null) ?? null,
    sshHostKey: (row.ssh_host_key as string | null) ?? null,
  };
}

function summaryFromRow(row: RawRow): RepositorySummary {
  return {
    ...repositoryFromRow(row),
    lastVisit:
      row.visit_id === null || row.visit_id === undefined
        ? null
        : {
            archiveId: row.visit_id as string,
            status: row.visit_status as ArchiveStatus,
            outcome: (row.visit_outcome as ArchiveOutcome | null) ?? null,
            createdAt: row.visit_created_at as Date,
            finishedAt: (row.visit_finished_at as Date | null) ?? null,
          },
    snapshotCount: row.snapshot_count as number,
    storedBytes: BigInt(row.stored_bytes as bigint),
    trackerCount: row.tracker_count as number,
  };
}

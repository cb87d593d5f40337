import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { coalescedBatches } from '@archiver/batching';
import { Prisma } from './generated/prisma/client';
import type { RefChangeKind } from './generated/prisma/enums';
import {
  ACTIVE_STATUSES,
  ArchiveListQuery,
  ArchiveOutcome,
  ArchiveRecord,
  ArchiveStats,
  ArchiveStatus,
  NewArchive,
  SnapshotStats,
  StageStats,
  UnsettledArchive,
} from './archive.types';
import { DatabaseError, DatabaseErrorCode, translateDatabaseError } from './database.error';
import { PrismaService } from './prisma.service';

/** What a completed visit found: the refs it saw (their `refsHash`), and whether they had moved. */
export interface VisitOutcome {
  outcome: ArchiveOutcome;
  refsHash: string | null;
  /** How the refs moved since the completed visit `sinceId` (null: since nothing, the first snapshot). */
  changes?: VisitRefChanges;
}

export interface VisitRefChanges {
  sinceId: string | null;
  refs: readonly { nameBytes: Buffer; kind: RefChangeKind; oldSha: string | null; newSha: string | null }[];
  /** Counts per kind, kept on the archive so listings need not read the rows. */
  summary: Readonly<Record<'created' | 'deleted' | 'fastForward' | 'nonFastForward' | 'tagMoved', number>>;
}

/**
 * The only code that touches the archive table. Stage stamps are written with COALESCE so a
 * retried step never moves a timestamp that was already set, and every transition names
 * the status it expects, so a late or duplicated job cannot move an archive backwards.
 */
@Injectable()
export class ArchiveRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * Records a pending archive, or returns the requester's active archive of the same
   * repository: the partial unique index makes this hold under concurrent submissions.
   */
  async createOrFindActive(input: NewArchive): Promise<{ archive: ArchiveRecord; created: boolean }> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const inserted = await this.insertArchive({ ...input, id: randomUUID(), repositoryId: randomUUID() });
      if (inserted) return { archive: justInserted(input, inserted), created: true };
      const active = await this.run(() =>
        this.prisma.archive.findFirst({
          where: { requestedBy: input.requestedBy, normalizedUrl: input.normalizedUrl, status: { in: ['pending', 'queued', 'running'] } },
        }),
      );
      // The active one may have finished between the insert and this read; then insert again.
      if (active) return { archive: active, created: false };
    }
    throw new DatabaseError(DatabaseErrorCode.Conflict, 'The repository is being submitted concurrently; try again');
  }

  // Submissions arriving together share one statement and one commit (bench/README.md, Ingest):
  // the database's CPU per submission was as large as the frontend's, most of it per statement.
  private readonly insertArchive = coalescedBatches((rows: readonly ArchiveToInsert[]) => this.insertArchives(rows), INSERT_BATCHES);

  /**
   * Each row's archive, and its repository upserted, in one statement (insertArchivesSql); per
   * row, what the database chose, or null when the requester already has an active archive of
   * that repository. A batch waits at most BATCH_LOCK_TIMEOUT for a row lock (a visit delete
   * holds its repository's row while it folds the history): past that, or when the statement
   * fails, each row is tried alone and answered on its own, so one row's wait or error is its
   * own caller's and not everyone's who arrived with it; only an unreachable database fails the
   * whole batch at once.
   */
  private async insertArchives(
    rows: readonly ArchiveToInsert[],
  ): Promise<(RawArchiveRow | null | Error | Promise<RawArchiveRow | null>)[]> {
    if (rows.length === 1) return [await this.insertAlone(rows[0]).catch((error: Error) => error)];
    try {
      const inserted = await this.prisma.$queryRaw<RawArchiveRow[]>(insertArchivesSql(rows, BATCH_LOCK_TIMEOUT));
      const byId = new Map(inserted.map((row) => [row.id, row]));
      return rows.map((row) => byId.get(row.id) ?? null);
    } catch (error) {
      const failure = translateDatabaseError(error, 'Archive not found');
      // Out of reach, every row would fail alike, each after waiting for a connection again.
      if (failure instanceof DatabaseError && failure.code === DatabaseErrorCode.Unavailable) return rows.map(() => failure);
      // Answered as each settles (a promise, not awaited here): the batch's slot is free at once.
      return rows.map((row) => this.insertAlone(row));
    }
  }

  private async insertAlone(row: ArchiveToInsert): Promise<RawArchiveRow | null> {
    return (await this.run(() => this.prisma.$queryRaw<RawArchiveRow[]>(insertArchivesSql([row]))))[0] ?? null;
  }

  findById(id: string): Promise<ArchiveRecord | null> {
    return this.run(() => this.prisma.archive.findUnique({ where: { id } }));
  }

  async list(query: ArchiveListQuery): Promise<{ items: ArchiveRecord[]; total: number }> {
    const where: Prisma.ArchiveWhereInput = { requestedBy: query.requestedBy, status: query.status };
    const [items, total] = await this.run(() =>
      this.prisma.$transaction([
        this.prisma.archive.findMany({
          where,
          orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
          skip: (query.page - 1) * query.pageSize,
          take: query.pageSize,
        }),
        this.prisma.archive.count({ where }),
      ]),
    );
    return { items, total };
  }

  /** pending → queued, stamping injectedAt once. Null when the archive is not pending (already handled). */
  markQueued(id: string, at: Date): Promise<ArchiveRecord | null> {
    return this.transition(Prisma.sql`status = 'queued', injected_at = COALESCE(injected_at, ${at})`, id, ['pending']);
  }

  /**
   * Claims the archive for one run (one worker's attempt): queued → running, or running →
   * running only when the previous run's lease has expired (its worker died, or lost contact
   * and stopped). Stamps startedAt once and counts the run. Null when the archive is not
   * claimable; `describeClaim` then says why.
   */
  claimRun(id: string, runId: string, leaseMs: number, at: Date): Promise<ArchiveRecord | null> {
    return this.update(
      Prisma.sql`status = 'running', run_id = ${runId}::uuid, run_expires_at = now() + ${leaseMs} * interval '1 millisecond',
        started_at = COALESCE(started_at, ${at}), injected_at = COALESCE(injected_at, ${at}), attempts = attempts + 1`,
      Prisma.sql`id = ${id}::uuid AND (status = 'queued'
        OR (status = 'running' AND (run_expires_at IS NULL OR run_expires_at < now())))
        AND ${NO_MAINTENANCE}`,
    );
  }

  /** Why claimRun refused: finished (or gone), or another run holds a live lease until `until`. */
  async describeClaim(id: string): Promise<{ state: 'gone' | 'finished' | 'held' | 'maintenance' | 'claimable'; until?: Date }> {
    const rows = await this.run(
      () => this.prisma.$queryRaw<
        { status: ArchiveStatus; until: Date | null; live: boolean; maintenanceUntil: Date | null; maintenance: boolean }[]
      >`
        SELECT a.status, a.run_expires_at AS until, (a.run_expires_at IS NOT NULL AND a.run_expires_at >= now()) AS live,
          r.maintenance_until AS "maintenanceUntil", (r.maintenance_until IS NOT NULL AND r.maintenance_until >= now()) AS maintenance
        FROM archive a JOIN repository r ON r.id = a.repository_id WHERE a.id = ${id}::uuid`,
    );
    const row = rows[0];
    if (!row) return { state: 'gone' };
    if (row.status === 'completed' || row.status === 'failed') return { state: 'finished' };
    if (row.status === 'running' && row.live) return { state: 'held', until: row.until ?? undefined };
    if (row.maintenance) return { state: 'maintenance', until: row.maintenanceUntil ?? undefined };
    return { state: 'claimable' };
  }

  /** Extends the run's lease; false when the run no longer holds the archive. */
  async renewRun(id: string, runId: string, leaseMs: number): Promise<boolean> {
    const row = await this.update(
      Prisma.sql`run_expires_at = now() + ${leaseMs} * interval '1 millisecond'`,
      Prisma.sql`id = ${id}::uuid AND run_id = ${runId}::uuid AND status = 'running'`,
    );
    return row !== null;
  }

  /** Gives the archive up (e.g. on shutdown) so another worker may claim it at once. */
  async releaseRun(id: string, runId: string): Promise<void> {
    await this.update(Prisma.sql`run_expires_at = now()`, Prisma.sql`id = ${id}::uuid AND run_id = ${runId}::uuid AND status = 'running'`);
  }

  /**
   * running → queued, by the run holding the archive, undoing what its claim counted (the run
   * and, on a first run, startedAt): the run stopped before doing anything because the upstream
   * host asked to wait, so the archive is waiting again, not started and not failed.
   */
  async requeueRun(id: string, runId: string): Promise<boolean> {
    const row = await this.update(
      Prisma.sql`status = 'queued', run_id = NULL, run_expires_at = NULL, attempts = GREATEST(attempts - 1, 0),
        started_at = CASE WHEN attempts <= 1 THEN NULL ELSE started_at END`,
      this.heldBy(id, runId),
    );
    return row !== null;
  }

  /**
   * Fixes where this run's snapshot goes; only the run holding the archive may. The first
   * snapshot of a repository also gives the repository its bucket (later ones leave it).
   */
  async setSnapshotLocation(id: string, runId: string, bucket: string, prefix: string): Promise<ArchiveRecord | null> {
    const rows = await this.run(
      () => this.prisma.$queryRaw<RawArchiveRow[]>`
        WITH located AS (
          UPDATE archive SET bucket = ${bucket}, prefix = ${prefix}, updated_at = now()
          WHERE ${this.heldBy(id, runId)} RETURNING *),
        repo AS (
          UPDATE repository r SET bucket = located.bucket, updated_at = now()
          FROM located WHERE r.id = located.repository_id AND r.bucket IS NULL)
        SELECT * FROM located`,
    );
    return rows[0] ? fromRow(rows[0]) : null;
  }

  /**
   * running → completed, only by the run that holds the archive. Without `visit` the snapshot
   * is taken to store the whole repository (outcome changed, refs hash unknown).
   */
  async markCompleted(id: string, runId: string, stats: SnapshotStats, at: Date, visit?: VisitOutcome): Promise<ArchiveRecord | null> {
    const outcome = visit?.outcome ?? 'changed';
    const changes = visit?.changes;
    const refs = changes?.refs ?? [];
    // One statement: the ref changes exist exactly when the visit is completed, never half.
    const rows = await this.run(
      () => this.prisma.$queryRaw<RawArchiveRow[]>`
        WITH done AS (
          UPDATE archive SET status = 'completed', finished_at = COALESCE(finished_at, ${at}), error = NULL, error_code = NULL,
            outcome = ${outcome}::"ArchiveOutcome", refs_hash = ${visit?.refsHash ?? null},
            commit = ${stats.commit}, ref_count = ${stats.refCount}, file_count = ${stats.fileCount}, byte_count = ${stats.byteCount},
            changes_since_id = ${changes?.sinceId ?? null}::uuid,
            change_summary = ${changes ? JSON.stringify(changes.summary) : null}::jsonb,
            run_expires_at = NULL, updated_at = now()
          WHERE ${this.heldBy(id, runId)}
          RETURNING *),
        recorded AS (
          INSERT INTO ref_change (archive_id, name, kind, old_sha, new_sha)
          SELECT done.id, decode(c.name, 'base64'), c.kind::"RefChangeKind", c.old_sha, c.new_sha
          FROM done, ${refChangeRows(refs)})
        SELECT * FROM done`,
    );
    return rows[0] ? fromRow(rows[0]) : null;
  }

  /** running → failed by the run that holds the archive. */
  markRunFailed(id: string, runId: string, code: string, message: string, at: Date): Promise<ArchiveRecord | null> {
    return this.update(
      Prisma.sql`status = 'failed', finished_at = COALESCE(finished_at, ${at}), error_code = ${code}, error = ${message},
        run_expires_at = NULL`,
      this.heldBy(id, runId),
    );
  }

  /**
   * Fails an archive no run holds (pending, queued, or running with an expired lease): for
   * the injector and the reconciler, which never race a live run.
   */
  markFailed(id: string, code: string, message: string, at: Date): Promise<ArchiveRecord | null> {
    return this.update(
      Prisma.sql`status = 'failed', finished_at = COALESCE(finished_at, ${at}), error_code = ${code}, error = ${message},
        run_expires_at = NULL`,
      Prisma.sql`id = ${id}::uuid AND (status IN ('pending', 'queued')
        OR (status = 'running' AND (run_expires_at IS NULL OR run_expires_at < now())))`,
    );
  }

  /** Keeps the reason of a failed attempt visible while the job waits for its retry. */
  recordAttemptError(id: string, runId: string, code: string, message: string): Promise<ArchiveRecord | null> {
    return this.update(Prisma.sql`error_code = ${code}, error = ${message}`, this.heldBy(id, runId));
  }

  /**
   * Non-terminal archives that have not changed since `before`, oldest first, for the
   * reconciler; `afterId` pages through them. Running archives come with their lease.
   */
  findUnsettled(before: Date, limit: number, afterId?: string): Promise<UnsettledArchive[]> {
    const after = afterId === undefined ? Prisma.sql`TRUE` : Prisma.sql`id > ${afterId}::uuid`;
    return this.run(
      () => this.prisma.$queryRaw<UnsettledArchive[]>`
        SELECT id, status, attempts, (run_expires_at IS NOT NULL AND run_expires_at >= now()) AS "leaseLive"
        FROM archive
        WHERE status IN ('pending', 'queued', 'running') AND updated_at < ${before} AND ${after}
        ORDER BY id LIMIT ${limit}`,
    );
  }

  /** Removes the row and its ref changes; for a whole repository going (purge). One visit alone goes with deleteVisit. */
  async delete(id: string): Promise<void> {
    await this.run(() => this.prisma.archive.deleteMany({ where: { id } }));
  }

  /**
   * Removes one visit and keeps its repository's chain of ref changes whole: each visit that
   * counted its changes from this one counts them, from now on, from the one before it (or from
   * nothing, when this was the first snapshot), its recorded changes replaced by `fold`ing this
   * visit's into its own. So the changes between any two remaining snapshots read the same as
   * before. A visit whose changes are unknown (recorded before the column) folds nothing: what
   * built on it stays unknown. Deletes of one repository's visits take turns on its row: two
   * neighbours deleted at once would otherwise each relink to the other.
   */
  async deleteVisit(id: string, fold: FoldRefChanges): Promise<void> {
    await this.run(() =>
      this.prisma.$transaction(async (tx) => {
        const locked = await tx.$queryRaw<unknown[]>`
          SELECT r.id FROM repository r JOIN archive a ON a.repository_id = r.id WHERE a.id = ${id}::uuid FOR UPDATE OF r`;
        if (locked.length === 0) return;
        // Read after the lock: this statement sees what a delete that held it before committed.
        const [gone] = await tx.$queryRaw<ChainLinkRow[]>`
          SELECT id, changes_since_id, change_summary FROM archive WHERE id = ${id}::uuid`;
        if (!gone) return;
        const successors = await tx.$queryRaw<ChainLinkRow[]>`
          SELECT id, changes_since_id, change_summary FROM archive
          WHERE changes_since_id = ${id}::uuid AND change_summary IS NOT NULL ORDER BY id`;
        if (gone.change_summary !== null && successors.length > 0) {
          const older = await recordedChanges(tx, id);
          for (const successor of successors) {
            const { refs, summary } = fold(older, await recordedChanges(tx, successor.id));
            await tx.$executeRaw`DELETE FROM ref_change WHERE archive_id = ${successor.id}::uuid`;
            await tx.$executeRaw`
              INSERT INTO ref_change (archive_id, name, kind, old_sha, new_sha)
              SELECT ${successor.id}::uuid, decode(c.name, 'base64'), c.kind::"RefChangeKind", c.old_sha, c.new_sha
              FROM ${refChangeRows(refs)}`;
            await tx.$executeRaw`
              UPDATE archive SET changes_since_id = ${gone.changes_since_id}::uuid,
                change_summary = ${JSON.stringify(summary)}::jsonb, updated_at = now()
              WHERE id = ${successor.id}::uuid`;
          }
        }
        await tx.$executeRaw`DELETE FROM archive WHERE id = ${id}::uuid`;
      }, FOLD_TRANSACTION),
    );
  }

  countSnapshotsInBucket(bucket: string): Promise<number> {
    return this.run(() => this.prisma.archive.count({ where: { bucket, status: 'completed' } }));
  }

  /** Archives of the repository still pending, queued or running: they may be writing to its bucket. */
  countActiveOfRepository(repositoryId: string): Promise<number> {
    return this.run(() => this.prisma.archive.count({ where: { repositoryId, status: { in: [...ACTIVE_STATUSES] } } }));
  }

  async stats(requestedBy?: string): Promise<ArchiveStats> {
    const who = requestedBy === undefined ? Prisma.sql`TRUE` : Prisma.sql`requested_by = ${requestedBy}`;
    const [counts, totals, stages, perHour] = await this.run(() =>
      Promise.all([
        this.prisma.$queryRaw<{ status: ArchiveStatus; n: number }[]>`
          SELECT status, COUNT(*)::int AS n FROM archive WHERE ${who} GROUP BY status`,
        this.prisma.$queryRaw<{ files: number | null; bytes: bigint | null }[]>`
          SELECT SUM(file_count)::int AS files, SUM(byte_count)::bigint AS bytes FROM archive WHERE ${who} AND status = 'completed'`,
        this.prisma.$queryRaw<Record<string, number | null>[]>`
          SELECT ${stageAggregate('wait', Prisma.sql`injected_at - created_at`)},
                 ${stageAggregate('inject', Prisma.sql`started_at - injected_at`)},
                 ${stageAggregate('run', Prisma.sql`finished_at - started_at`)},
                 ${stageAggregate('total', Prisma.sql`finished_at - created_at`)}
          FROM archive WHERE ${who} AND status = 'completed'`,
        this.prisma.$queryRaw<{ hour: Date; count: number }[]>`
          SELECT date_trunc('hour', created_at) AS hour, COUNT(*)::int AS count FROM archive
          WHERE ${who} AND created_at > now() - interval '24 hours' GROUP BY 1 ORDER BY 1`,
      ]),
    );
    const s = stages[0] ?? {};
    const stage = (name: string): StageStats => ({ meanMs: s[`${name}_mean`] ?? null, p95Ms: s[`${name}_p95`] ?? null });
    return {
      counts: { pending: 0, queued: 0, running: 0, completed: 0, failed: 0, ...Object.fromEntries(counts.map((c) => [c.status, c.n])) },
      totals: { files: totals[0]?.files ?? 0, bytes: totals[0]?.bytes ?? 0n },
      stages: { wait: stage('wait'), inject: stage('inject'), run: stage('run'), total: stage('total') },
      perHour,
    };
  }

  /**
   * The newest completed visit of the repository other than `excludeId` that has a snapshot
   * location, for the change probe to compare against; null when there is none.
   */
  async findPreviousCompletedVisit(repositoryId: string, excludeId: string): Promise<ArchiveRecord | null> {
    const rows = await this.run(
      () => this.prisma.$queryRaw<RawArchiveRow[]>`
        SELECT * FROM archive
        WHERE repository_id = ${repositoryId}::uuid AND id <> ${excludeId}::uuid AND status = 'completed'
          AND bucket IS NOT NULL AND prefix IS NOT NULL
        ORDER BY finished_at DESC NULLS LAST, id DESC LIMIT 1`,
    );
    return rows[0] ? fromRow(rows[0]) : null;
  }

  /**
   * The repository's next completed visit after this completed one: the only snapshot that can
   * build on it directly (point at its content, or extend its bundle chain); every later one
   * builds on that one. Null when there is none.
   */
  async findNextCompletedVisit(archive: ArchiveRecord): Promise<ArchiveRecord | null> {
    if (archive.status !== 'completed' || archive.finishedAt === null) return null;
    const rows = await this.run(
      () => this.prisma.$queryRaw<RawArchiveRow[]>`
        SELECT * FROM archive
        WHERE repository_id = ${archive.repositoryId}::uuid AND id <> ${archive.id}::uuid AND status = 'completed'
          AND finished_at > ${archive.finishedAt}
        ORDER BY finished_at ASC, id ASC LIMIT 1`,
    );
    return rows[0] ? fromRow(rows[0]) : null;
  }

  /**
   * Claims up to `limit` due repositories (active, nextVisitAt passed, no visit still active)
   * and creates a pending visit of each, in one statement: FOR UPDATE SKIP LOCKED lets several
   * injectors claim at once without taking the same repository or waiting on each other, and
   * the claim moves nextVisitAt one interval on, so a visit that is lost (its archive deleted)
   * is made again later rather than never. The visit's outcome sets the real next visit
   * (TrackedRepositoryRepository.recordVisitOutcome). A visit is requested by the repository's
   * first tracker, or by `systemSubject` when nobody tracks it any more.
   */
  async createScheduledVisits(limit: number, systemSubject: string): Promise<ArchiveRecord[]> {
    const rows = await this.run(
      () => this.prisma.$queryRaw<RawArchiveRow[]>`
        WITH due AS (
          SELECT r.id FROM repository r
          WHERE r.state = 'active' AND r.next_visit_at <= now()
            AND NOT EXISTS (SELECT 1 FROM archive a WHERE a.repository_id = r.id AND a.status IN ('pending', 'queued', 'running'))
          ORDER BY r.next_visit_at LIMIT ${limit}
          FOR UPDATE OF r SKIP LOCKED),
        claimed AS (
          UPDATE repository r
          SET next_visit_at = now() + COALESCE(r.pinned_interval_seconds, r.interval_seconds) * interval '1 second', updated_at = now()
          FROM due WHERE r.id = due.id
          RETURNING r.id, r.url, r.normalized_url)
        INSERT INTO archive (id, url, normalized_url, requested_by, requested_by_name, updated_at, repository_id)
        SELECT gen_random_uuid(), c.url, c.normalized_url, COALESCE(t.user_subject, ${systemSubject}),
          CASE WHEN t.user_subject IS NULL THEN ${systemSubject} ELSE t.user_name END, now(), c.id
        FROM claimed c
        LEFT JOIN LATERAL (
          SELECT user_subject, user_name FROM repository_tracker
          WHERE repository_id = c.id ORDER BY created_at, user_subject LIMIT 1) t ON TRUE
        ON CONFLICT DO NOTHING RETURNING *`,
    );
    return rows.map(fromRow);
  }

  private async transition(set: Prisma.Sql, id: string, from: ArchiveStatus[]): Promise<ArchiveRecord | null> {
    const allowed = Prisma.join(from.map((s) => Prisma.sql`${s}::"ArchiveStatus"`));
    return this.update(set, Prisma.sql`id = ${id}::uuid AND status IN (${allowed})`);
  }

  private heldBy(id: string, runId: string): Prisma.Sql {
    return Prisma.sql`id = ${id}::uuid AND status = 'running' AND run_id = ${runId}::uuid`;
  }

  private async update(set: Prisma.Sql, where: Prisma.Sql): Promise<ArchiveRecord | null> {
    const rows = await this.run(
      () => this.prisma.$queryRaw<RawArchiveRow[]>`UPDATE archive SET ${set}, updated_at = now() WHERE ${where} RETURNING *`,
    );
    return rows[0] ? fromRow(rows[0]) : null;
  }

  private async run<T>(query: () => Promise<T>): Promise<T> {
    try {
      return await query();
    } catch (error) {
      throw translateDatabaseError(error, 'Archive not found');
    }
  }
}

/**
 * A visit may start only while no prune holds its repository's maintenance lease (a prune
 * deletes bundles and blobs a visit would build on). FOR SHARE locks the repository row: a
 * prune takes the lease with an UPDATE of that row, so either the prune's UPDATE waits for this
 * claim to commit — and then its later check for running visits sees this one and backs off —
 * or this claim waits for the UPDATE and Postgres re-checks the condition on the row's newest
 * version, which holds the live lease: the claim is refused. Never both at once.
 */
const NO_MAINTENANCE = Prisma.sql`EXISTS (SELECT 1 FROM repository r WHERE r.id = archive.repository_id
  AND (r.maintenance_until IS NULL OR r.maintenance_until < now()) FOR SHARE)`;

function stageAggregate(name: string, interval: Prisma.Sql): Prisma.Sql {
  const ms = Prisma.sql`EXTRACT(EPOCH FROM (${interval})) * 1000`;
  return Prisma.sql`AVG(${ms})::float8 AS ${Prisma.raw(`${name}_mean`)},
    percentile_cont(0.95) WITHIN GROUP (ORDER BY ${ms})::float8 AS ${Prisma.raw(`${name}_p95`)}`;
}

type RawArchiveRow = Record<string, unknown>;

/** A submission with the ids it will have if it is inserted (matched against what the batch returns). */
type ArchiveToInsert = NewArchive & { id: string; repositoryId: string };

// Two batches at once, so one waiting for a lock does not stop the others; under load each
// still carries many submissions.
const INSERT_BATCHES = { inFlight: 2, maxBatchSize: 100 };
// A batch's statement takes milliseconds; a longer wait is a lock held elsewhere.
const BATCH_LOCK_TIMEOUT = '200ms';

/**
 * The rows' archives, their repositories upserted, in one statement. Raw SQL on the hot path
 * of POST /api/archives, returning 6 columns, not 31. ON CONFLICT DO NOTHING: a requester's
 * second active archive of a repository (the partial unique index) is not inserted, also
 * between rows of one batch. Each repository is upserted once (DO UPDATE may touch a row once
 * per statement) and in URL order, so two batches lock shared repository rows in the same
 * order; DO UPDATE, not DO NOTHING, so RETURNING yields the id of one that exists already.
 */
function insertArchivesSql(rows: readonly ArchiveToInsert[], lockTimeout?: string): Prisma.Sql {
  // The statement is its own transaction, so a local setting lasts exactly as long as it. Every
  // input row is joined to it, so it is set before the first row can lock anything; a single
  // row sets nothing (the server's default: wait).
  const settings = lockTimeout ? Prisma.sql`SELECT set_config('lock_timeout', ${lockTimeout}, true)` : Prisma.sql`SELECT 1`;
  return Prisma.sql`
    WITH settings AS MATERIALIZED (${settings}),
    input AS (
      SELECT i.* FROM settings, unnest(${rows.map((r) => r.id)}::uuid[], ${rows.map((r) => r.repositoryId)}::uuid[],
        ${rows.map((r) => r.url)}::text[], ${rows.map((r) => r.normalizedUrl)}::text[],
        ${rows.map((r) => r.requestedBy)}::text[], ${rows.map((r) => r.requestedByName ?? null)}::text[])
        WITH ORDINALITY AS i(id, repository_id, url, normalized_url, requested_by, requested_by_name, n)),
    repo AS (
      INSERT INTO repository (id, url, normalized_url)
      SELECT DISTINCT ON (normalized_url) repository_id, url, normalized_url FROM input ORDER BY normalized_url, n
      ON CONFLICT (normalized_url) DO UPDATE SET normalized_url = EXCLUDED.normalized_url
      RETURNING id, normalized_url)
    INSERT INTO archive (id, url, normalized_url, requested_by, requested_by_name, updated_at, repository_id)
    SELECT input.id, input.url, input.normalized_url, input.requested_by, input.requested_by_name, now(), repo.id
    FROM input JOIN repo USING (normalized_url) ORDER BY input.normalized_url, input.n
    ON CONFLICT DO NOTHING RETURNING id, status, attempts, created_at, updated_at, repository_id`;
}

/**
 * The row createOrFindActive just inserted, without reading back all 31 columns on the hot path
 * (parsing them was a visible share of each submission's CPU): what the insert set, what the
 * database chose (id, defaults, repository), and null for every other column, none of which has
 * a default. database.int-spec.ts checks this equals the stored row.
 */
function justInserted(input: NewArchive, returned: RawArchiveRow): ArchiveRecord {
  return fromRow({
    ...returned,
    url: input.url,
    normalized_url: input.normalizedUrl,
    requested_by: input.requestedBy,
    requested_by_name: input.requestedByName ?? null,
  });
}

type RecordedRefChange = VisitRefChanges['refs'][number];

/** How deleteVisit merges a removed visit's ref changes (older) with those of the visit after it (newer). */
export type FoldRefChanges = (
  older: readonly RecordedRefChange[],
  newer: readonly RecordedRefChange[],
) => Pick<VisitRefChanges, 'refs' | 'summary'>;

// Prisma's default of 5 s is short for folding two visits of a repository with ~10^5 refs.
const FOLD_TRANSACTION = { timeout: 60_000 };

interface ChainLinkRow {
  id: string;
  changes_since_id: string | null;
  change_summary: unknown;
}

/** Ref changes as rows of `unnest(...) AS c(name, kind, old_sha, new_sha)`, names base64 (they are bytes). */
function refChangeRows(refs: readonly RecordedRefChange[]): Prisma.Sql {
  return Prisma.sql`unnest(${refs.map((r) => r.nameBytes.toString('base64'))}::text[], ${refs.map((r) => r.kind)}::text[],
    ${refs.map((r) => r.oldSha)}::text[], ${refs.map((r) => r.newSha)}::text[]) AS c(name, kind, old_sha, new_sha)`;
}

async function recordedChanges(tx: Prisma.TransactionClient, archiveId: string): Promise<RecordedRefChange[]> {
  const rows = await tx.refChange.findMany({ where: { archiveId } });
  return rows.map((row) => ({ nameBytes: Buffer.from(row.name), kind: row.kind, oldSha: row.oldSha, newSha: row.newSha }));
}

/** Raw queries return column names: maps them back to the model's field names; absent columns read as null (see justInserted). */
function fromRow(row: RawArchiveRow): ArchiveRecord {
  return {
    id: row.id as string,
    url: row.url as string,
    normalizedUrl: row.normalized_url as string,
    status: row.status as ArchiveStatus,
    requestedBy: row.requested_by as string,
    requestedByName: (row.requested_by_name as string | null) ?? null,
    createdAt: row.created_at as Date,
    injectedAt: (row.injected_at as Date | null) ?? null,
    startedAt: (row.started_at as Date | null) ?? null,
    finishedAt: (row.finished_at as Date | null) ?? null,
    updatedAt: row.updated_at as Date,
    attempts: row.attempts as number,
    errorCode: (row.error_code as string | null) ?? null,
    error: (row.error as string | null) ?? null,
    bucket: (row.bucket as string | null) ?? null,
    prefix: (row.prefix as string | null) ?? null,
    commit: (row.commit as string | null) ?? null,
    refCount: (row.ref_count as number | null) ?? null,
    fileCount: (row.file_count as number | null) ?? null,
    byteCount: row.byte_count === null || row.byte_count === undefined ? null : BigInt(row.byte_count as bigint),
    runId: (row.run_id as string | null) ?? null,
    runExpiresAt: (row.run_expires_at as Date | null) ?? null,
    repositoryId: row.repository_id as string,
    outcome: (row.outcome as ArchiveOutcome | null) ?? null,
    refsHash: (row.refs_hash as string | null) ?? null,
    changesSinceId: (row.changes_since_id as string | null) ?? null,
    changeSummary: (row.change_summary as Prisma.JsonValue | null) ?? null,
    verifiedAt: (row.verified_at as Date | null) ?? null,
    verifyErrorCode: (row.verify_error_code as string | null) ?? null,
    verifyError: (row.verify_error as string | null) ?? null,
    verifyCheckedAt: (row.verify_checked_at as Date | null) ?? null,
  };
}

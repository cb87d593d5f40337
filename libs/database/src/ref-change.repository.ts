import { Injectable } from '@nestjs/common';
import type { RefChangeKind } from './generated/prisma/enums';
import { translateDatabaseError } from './database.error';
import { PrismaService } from './prisma.service';

/** A completed visit as the changes API walks them: each counts its ref changes from `changesSinceId`. */
export interface SnapshotLink {
  id: string;
  finishedAt: Date;
  outcome: 'changed' | 'unchanged' | null;
  changesSinceId: string | null;
  /** Null when the visit predates change recording (or its previous manifest was unreadable). */
  changeSummary: Record<string, number> | null;
}

export interface StoredRefChange {
  archiveId: string;
  nameBytes: Buffer;
  kind: RefChangeKind;
  oldSha: string | null;
  newSha: string | null;
}

/** Reads the ref changes the worker recorded with each completed visit (ArchiveRepository.markCompleted). */
@Injectable()
export class RefChangeRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** The repository's completed visits, newest first. */
  async listSnapshots(repositoryId: string): Promise<SnapshotLink[]> {
    const rows = await this.run(() =>
      this.prisma.archive.findMany({
        where: { repositoryId, status: 'completed' },
        select: { id: true, finishedAt: true, outcome: true, changesSinceId: true, changeSummary: true },
        orderBy: [{ finishedAt: 'desc' }, { id: 'desc' }],
      }),
    );
    return rows.map((row) => ({
      id: row.id,
      finishedAt: row.finishedAt ?? new Date(0),
      outcome: row.outcome,
      changesSinceId: row.changesSinceId,
      changeSummary: (row.changeSummary as Record<string, number> | null) ?? null,
    }));
  }

  /** Every ref change recorded by these visits. */
  async findChanges(archiveIds: readonly string[]): Promise<StoredRefChange[]> {
    if (archiveIds.length === 0) return [];
    const rows = await this.run(() => this.prisma.refChange.findMany({ where: { archiveId: { in: [...archiveIds] } } }));
    // In one order whatever the plan: a long id list is split into several queries by Prisma,
    // each answering in its own order.
    rows.sort((x, y) =>
      x.archiveId === y.archiveId ? Buffer.compare(Buffer.from(x.name), Buffer.from(y.name)) : x.archiveId < y.archiveId ? -1 : 1,
    );
    return rows.map((row) => ({
      archiveId: row.archiveId,
      nameBytes: Buffer.from(row.name),
      kind: row.kind,
      oldSha: row.oldSha,
      newSha: row.newSha,
    }));
  }

  private async run<T>(query: () => Promise<T>): Promise<T> {
    try {
      return await query();
    } catch (error) {
      throw translateDatabaseError(error, 'Archive not found');
    }
  }
}

import { Injectable } from '@nestjs/common';
import { translateDatabaseError } from './database.error';
import { PrismaService } from './prisma.service';

/** What the last restore drill of a snapshot found. */
export type VerificationResult = { passed: true } | { passed: false; code: string; message: string };

/**
 * The restore drills' columns of the archive table. A pass sets `verified_at` and clears the
 * failure; a failure clears `verified_at` (a snapshot found broken is no longer known good)
 * and keeps the exact reason. Either way `verify_checked_at` says when the drill ran.
 */
@Injectable()
export class VerificationRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Records a drill of a completed snapshot; false when the archive is gone or not completed. */
  async record(archiveId: string, result: VerificationResult, at: Date): Promise<boolean> {
    const data = result.passed
      ? { verifiedAt: at, verifyErrorCode: null, verifyError: null, verifyCheckedAt: at }
      : { verifiedAt: null, verifyErrorCode: result.code, verifyError: result.message, verifyCheckedAt: at };
    const { count } = await this.run(() => this.prisma.archive.updateMany({ where: { id: archiveId, status: 'completed' }, data }));
    return count === 1;
  }

  /**
   * Up to `limit` completed snapshots for the scheduled drill: never checked first (oldest
   * snapshot first), then the least recently checked.
   */
  async pickSample(limit: number): Promise<string[]> {
    if (limit <= 0) return [];
    const rows = await this.run(() =>
      this.prisma.archive.findMany({
        where: { status: 'completed' },
        orderBy: [{ verifyCheckedAt: { sort: 'asc', nulls: 'first' } }, { createdAt: 'asc' }],
        take: limit,
        select: { id: true },
      }),
    );
    return rows.map((row) => row.id);
  }

  /** Per repository, how many of its snapshots failed their last drill. */
  async countFailedByRepository(repositoryIds: readonly string[]): Promise<Map<string, number>> {
    if (repositoryIds.length === 0) return new Map();
    const rows = await this.run(() =>
      this.prisma.archive.groupBy({
        by: ['repositoryId'],
        where: { repositoryId: { in: [...repositoryIds] }, status: 'completed', verifyErrorCode: { not: null } },
        _count: { _all: true },
      }),
    );
    return new Map(rows.map((row) => [row.repositoryId, row._count._all]));
  }

  private async run<T>(query: () => Promise<T>): Promise<T> {
    try {
      return await query();
    } catch (error) {
      throw translateDatabaseError(error, 'Archive not found');
    }
  }
}

import { ArchiveRepository } from './archive.repository';
import { DatabaseError, DatabaseErrorCode } from './database.error';
import type { PrismaService } from './prisma.service';

/** A repository over a Prisma whose raw queries the test answers (the real statements run in submission-batches.int-spec). */
function repositoryWith(queryRaw: jest.Mock) {
  return new ArchiveRepository({ $queryRaw: queryRaw } as unknown as PrismaService);
}

const submissions = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    url: `https://example.org/r/${i}.git`,
    normalizedUrl: `https://example.org/r/${i}`,
    requestedBy: 'alice',
  }));

/** What the insert returns for the rows of one statement: every row inserted. */
function insertedRows(sql: { values: unknown[] }) {
  const ids = sql.values[0] as string[];
  return ids.map((id) => ({ id, status: 'pending', attempts: 0, created_at: new Date(), updated_at: new Date(), repository_id: 'r' }));
}

describe('ArchiveRepository.createOrFindActive, submissions arriving together', () => {
  it('fails the whole batch at once when the database is out of reach, without trying each row again', async () => {
    const queryRaw = jest.fn().mockRejectedValue(new Error('connect ECONNREFUSED 127.0.0.1:5432'));
    const archives = repositoryWith(queryRaw);
    const outcomes = await Promise.allSettled(submissions(8).map((s) => archives.createOrFindActive(s)));
    for (const outcome of outcomes) {
      expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(DatabaseError);
      expect(((outcome as PromiseRejectedResult).reason as DatabaseError).code).toBe(DatabaseErrorCode.Unavailable);
    }
    expect(queryRaw.mock.calls.length).toBeLessThan(8);
  });

  it('tries each row alone when the shared statement fails for another reason (a row refused, a lock waited out)', async () => {
    const queryRaw = jest.fn().mockImplementation(async (sql: { values: unknown[] }) => {
      if ((sql.values[0] as string[]).length > 1) throw new Error('canceling statement due to lock timeout');
      return insertedRows(sql);
    });
    const archives = repositoryWith(queryRaw);
    const results = await Promise.all(submissions(6).map((s) => archives.createOrFindActive(s)));
    expect(results.every((r) => r.created)).toBe(true);
    expect(results.map((r) => r.archive.url)).toEqual(submissions(6).map((s) => s.url));
  });
});

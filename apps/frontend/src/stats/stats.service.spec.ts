import type { AuthUser } from '@archiver/auth';
import type { ArchiveRepository, ArchiveStats } from '@archiver/database';
import { StatsService } from './stats.service';

const stats: ArchiveStats = {
  counts: { pending: 1, queued: 0, running: 2, completed: 3, failed: 4 },
  totals: { files: 12, bytes: 3_000_000_000n },
  stages: {
    wait: { meanMs: 12.4, p95Ms: 30.6 },
    inject: { meanMs: 1, p95Ms: 2 },
    run: { meanMs: 1000.5, p95Ms: 2000 },
    total: { meanMs: null, p95Ms: null },
  },
  perHour: [{ hour: new Date('2025-01-01T10:00:00.000Z'), count: 5 }],
};

describe(StatsService.name, () => {
  const archives = { stats: jest.fn(async () => stats) };
  const sut = new StatsService(archives as unknown as ArchiveRepository);
  const demo: AuthUser = { subject: 'sub-demo', username: 'demo', roles: ['archiver-user'], isAdmin: false };
  const admin: AuthUser = { subject: 'sub-admin', username: 'admin', roles: ['archiver-user', 'archiver-admin'], isAdmin: true };

  it("gives a user their own numbers and an admin everyone's", async () => {
    await sut.forUser(demo);
    await sut.forUser(admin);
    expect(archives.stats).toHaveBeenNthCalledWith(1, 'sub-demo');
    expect(archives.stats).toHaveBeenNthCalledWith(2, undefined);
  });

  it('answers plain JSON numbers and ISO hours', async () => {
    expect(await sut.forUser(demo)).toEqual({
      counts: { pending: 1, queued: 0, running: 2, completed: 3, failed: 4 },
      totals: { files: 12, bytes: 3_000_000_000 },
      stages: {
        wait: { meanMs: 12, p95Ms: 31 },
        inject: { meanMs: 1, p95Ms: 2 },
        run: { meanMs: 1001, p95Ms: 2000 },
        total: { meanMs: null, p95Ms: null },
      },
      perHour: [{ hour: '2025-01-01T10:00:00.000Z', count: 5 }],
    });
  });
});

import type { RepositorySummary } from '@archiver/database';
import { nextVisitAfter } from './repositories.service';
import { toRepositoryView } from './repository.view';

const at = (iso: string) => new Date(iso);

function summary(overrides: Partial<RepositorySummary> = {}): RepositorySummary {
  return {
    id: '00000000-0000-4000-8000-000000000001',
    url: 'https://h/o/r.git',
    normalizedUrl: 'https://h/o/r',
    bucket: null,
    state: 'active',
    stateReason: null,
    intervalSeconds: 86_400,
    pinnedIntervalSeconds: null,
    nextVisitAt: null,
    lastVisitAt: null,
    lastSuccessAt: null,
    lastChangeAt: null,
    consecutiveFailures: 0,
    retentionKeepLast: null,
    retentionKeepDaily: null,
    retentionKeepWeekly: null,
    retentionKeepMonthly: null,
    maintenanceUntil: null,
    maintenanceRunId: null,
    lastPrunedAt: null,
    lastPruneSummary: null,
    createdAt: at('2026-01-01T00:00:00Z'),
    updatedAt: at('2026-01-01T00:00:00Z'),
    credentialKind: null,
    credentialUpdatedAt: null,
    credentialLastUsedAt: null,
    hookSecretUpdatedAt: null,
    credentialSetBy: null,
    sshHostKey: null,
    lastVisit: null,
    snapshotCount: 0,
    storedBytes: 0n,
    trackerCount: 1,
    ...overrides,
  };
}

describe(toRepositoryView.name, () => {
  it('shows the pinned interval in effect over the adaptive one, in hours', () => {
    expect(toRepositoryView(summary({ intervalSeconds: 7200 }))).toMatchObject({ intervalHours: 2, pinnedIntervalHours: null });
    expect(toRepositoryView(summary({ intervalSeconds: 7200, pinnedIntervalSeconds: 5400 }))).toMatchObject({
      intervalHours: 1.5,
      pinnedIntervalHours: 1.5,
    });
  });

  it('renders dates as ISO strings, bytes as a number and the last visit when there is one', () => {
    const sut = toRepositoryView(
      summary({
        nextVisitAt: at('2026-01-02T00:00:00Z'),
        storedBytes: 123n,
        lastVisit: { archiveId: 'a', status: 'completed', outcome: 'changed', createdAt: at('2026-01-01T01:00:00Z'), finishedAt: null },
      }),
    );
    expect(sut).toMatchObject({
      nextVisitAt: '2026-01-02T00:00:00.000Z',
      lastVisitAt: null,
      storedBytes: 123,
      lastVisit: { archiveId: 'a', status: 'completed', outcome: 'changed', createdAt: '2026-01-01T01:00:00.000Z', finishedAt: null },
    });
    expect(toRepositoryView(summary()).lastVisit).toBeNull();
  });
});

describe(nextVisitAfter.name, () => {
  it('adds the interval, but an overdue visit is due now rather than in the past', () => {
    const now = at('2026-01-10T00:00:00Z');
    expect(nextVisitAfter(at('2026-01-09T23:00:00Z'), 7200, now)).toEqual(at('2026-01-10T01:00:00Z'));
    expect(nextVisitAfter(at('2026-01-01T00:00:00Z'), 7200, now)).toEqual(now);
    expect(nextVisitAfter(at('2026-01-01T00:00:00Z'), 7200)).toEqual(at('2026-01-01T02:00:00Z'));
  });

  it('shows of a credential only its kind and when it was last used', () => {
    expect(toRepositoryView(summary()).credential).toBeNull();
    const view = toRepositoryView(summary({ credentialKind: 'token', credentialLastUsedAt: at('2026-02-03T04:05:06Z') }));
    expect(view.credential).toEqual({ kind: 'token', set: true, lastUsedAt: '2026-02-03T04:05:06.000Z' });
    expect(toRepositoryView(summary({ credentialKind: 'basic' })).credential).toEqual({ kind: 'basic', set: true, lastUsedAt: null });
  });
});

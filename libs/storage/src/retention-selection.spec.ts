import { isoWeek, type RetentionCandidate, type RetentionPolicy, selectRetention, utcDay } from './retention-selection';

const policy = (p: Partial<RetentionPolicy>): RetentionPolicy => ({ keepLast: 0, keepDaily: 0, keepWeekly: 0, keepMonthly: 0, ...p });
const visit = (id: string, at: string, contentFrom: string | null = null): RetentionCandidate => ({
  id,
  finishedAt: new Date(at),
  outcome: contentFrom ? 'unchanged' : 'changed',
  contentFrom,
});
const keptIds = (candidates: RetentionCandidate[], p: RetentionPolicy | null) => selectRetention(candidates, p).keep.map((k) => k.id);

describe(selectRetention.name, () => {
  const week = [
    visit('a', '2026-11-23T10:00:00Z'),
    visit('b', '2026-11-24T10:00:00Z'),
    visit('c', '2026-11-25T10:00:00Z'),
    visit('d', '2026-11-26T10:00:00Z'),
    visit('e', '2026-11-27T10:00:00Z'),
  ];

  it.each([
    ['null', null],
    ['all zero', policy({})],
  ])('keeps everything for a %s policy', (_name, p) => {
    const sut = selectRetention(week, p);
    expect(sut.keep.map((k) => k.id)).toEqual(['e', 'd', 'c', 'b', 'a']);
    expect(sut.prune).toEqual([]);
  });

  it.each([1, 2, 3, 5, 50])('keepLast %i keeps the newest min(N, count), newest first', (n) => {
    const sut = selectRetention(week, policy({ keepLast: n }));
    expect(sut.keep.map((k) => k.id)).toEqual(['e', 'd', 'c', 'b', 'a'].slice(0, Math.min(n, 5)));
    expect(sut.prune.map((p) => p.id)).toEqual(['e', 'd', 'c', 'b', 'a'].slice(Math.min(n, 5)));
    expect(sut.keep[0]!.reasons).toEqual(['last', 'newest']);
  });

  it('keeps the newest snapshot of a day when several share it (ties broken by time, then id)', () => {
    const sameDay = [
      visit('early', '2026-11-29T01:00:00Z'),
      visit('late', '2026-11-29T23:59:59.999Z'),
      visit('x', '2026-11-28T12:00:00Z'),
      visit('y', '2026-11-28T12:00:00Z'),
    ];
    const sut = selectRetention(sameDay, policy({ keepDaily: 2 }));
    expect(sut.keep).toEqual([
      { id: 'late', reasons: ['daily 2026-11-29', 'newest'] },
      { id: 'y', reasons: ['daily 2026-11-28'] },
    ]);
    expect(sut.prune.map((p) => p.id)).toEqual(['early', 'x']);
  });

  it('counts only days that have snapshots: gaps do not use up the count', () => {
    const gappy = [visit('old', '2026-10-01T00:00:00Z'), visit('mid', '2026-11-01T00:00:00Z'), visit('new', '2026-11-30T00:00:00Z')];
    expect(keptIds(gappy, policy({ keepDaily: 3 }))).toEqual(['new', 'mid', 'old']);
  });

  it('splits days at UTC midnight exactly, whatever the local zone', () => {
    const edge = [visit('before', '2026-03-29T23:59:59.999Z'), visit('after', '2026-03-30T00:00:00Z')];
    expect(selectRetention(edge, policy({ keepDaily: 2 })).keep.map((k) => k.reasons[0])).toEqual(['daily 2026-03-30', 'daily 2026-03-29']);
  });

  it.each([
    ['2026-12-31T12:00:00Z', '2026-W53'],
    ['2027-01-01T12:00:00Z', '2026-W53'],
    ['2027-01-04T00:00:00Z', '2027-W01'],
    ['2024-12-30T00:00:00Z', '2025-W01'],
    ['2026-11-29T23:59:59Z', '2026-W48'],
    ['2026-11-30T00:00:00Z', '2026-W49'],
  ])('ISO week of %s is %s', (at, expected) => {
    expect(isoWeek(new Date(at))).toBe(expected);
  });

  it('keeps one snapshot for a week that spans a year boundary', () => {
    const span = [visit('dec', '2026-12-31T10:00:00Z'), visit('jan', '2027-01-02T10:00:00Z'), visit('prev', '2026-12-20T10:00:00Z')];
    const sut = selectRetention(span, policy({ keepWeekly: 2 }));
    expect(sut.keep).toEqual([
      { id: 'jan', reasons: ['weekly 2026-W53', 'newest'] },
      { id: 'prev', reasons: ['weekly 2026-W51'] },
    ]);
  });

  it('keeps the newest of each month and combines reasons of several rules', () => {
    const months = [visit('oct', '2026-10-15T00:00:00Z'), visit('nov1', '2026-11-01T00:00:00Z'), visit('nov2', '2026-11-20T00:00:00Z')];
    const sut = selectRetention(months, policy({ keepLast: 1, keepMonthly: 2 }));
    expect(sut.keep).toEqual([
      { id: 'nov2', reasons: ['last', 'monthly 2026-11', 'newest'] },
      { id: 'oct', reasons: ['monthly 2026-10'] },
    ]);
  });

  it('always keeps the newest snapshot, even under a policy that would keep none of it', () => {
    expect(selectRetention(week, policy({ keepMonthly: 0, keepDaily: 0, keepWeekly: 0, keepLast: 0 })).prune).toEqual([]);
    const sut = selectRetention(week, policy({ keepLast: 1 }));
    expect(sut.keep.map((k) => k.id)).toEqual(['e']);
  });

  it('keeps the changed snapshot a kept unchanged visit points at, and nothing for a pruned one', () => {
    const visits = [
      visit('c1', '2026-11-01T00:00:00Z'),
      visit('u1', '2026-11-02T00:00:00Z', 'c1'),
      visit('c2', '2026-11-03T00:00:00Z'),
      visit('u2', '2026-11-04T00:00:00Z', 'c2'),
    ];
    const sut = selectRetention(visits, policy({ keepLast: 1 }));
    expect(sut.keep).toEqual([
      { id: 'u2', reasons: ['last', 'newest'] },
      { id: 'c2', reasons: ['content of kept u2'] },
    ]);
    expect(sut.prune.map((p) => p.id)).toEqual(['u1', 'c1']);
  });

  it('selects nothing from no snapshots', () => {
    expect(selectRetention([], policy({ keepLast: 2 }))).toEqual({ keep: [], prune: [] });
  });

  it('uses UTC days for the reasons', () => {
    expect(utcDay(new Date('2026-11-29T23:30:00-05:00'))).toBe('2026-11-30');
  });
});

import { deriveVisitEvents, refName, type SettledVisit, type VisitRefChange } from './visit-events';

const change = (
  name: string | Buffer,
  kind: VisitRefChange['kind'],
  oldSha: string | null = 'a'.repeat(40),
  newSha: string | null = 'b'.repeat(40),
): VisitRefChange => ({
  nameBytes: typeof name === 'string' ? Buffer.from(name) : name,
  kind,
  oldSha,
  newSha,
});
const visit = (overrides: Partial<SettledVisit>): SettledVisit => ({
  result: { kind: 'completed', outcome: 'changed' },
  repository: { state: 'active', stateReason: null },
  previous: { status: 'completed', errorCode: null },
  refChanges: [],
  ...overrides,
});
const names = (v: SettledVisit) => deriveVisitEvents(v).map((e) => e.event);

describe(deriveVisitEvents.name, () => {
  it('a failed visit: visit.failed with its code and message', () => {
    expect(deriveVisitEvents(visit({ result: { kind: 'failed', code: 'NOT_FOUND', message: 'Repository not found' } }))).toEqual([
      { event: 'visit.failed', details: { code: 'NOT_FOUND', message: 'Repository not found' } },
    ]);
  });

  it('a failed visit that left the repository disabled: visit.failed, then repository.disabled with the reason', () => {
    const events = deriveVisitEvents(
      visit({
        result: { kind: 'failed', code: 'NOT_FOUND', message: 'gone' },
        repository: { state: 'disabled', stateReason: '3 permanent failures' },
      }),
    );
    expect(events.map((e) => e.event)).toEqual(['visit.failed', 'repository.disabled']);
    expect(events[1]!.details).toEqual({ reason: '3 permanent failures', code: 'NOT_FOUND' });
  });

  it.each([
    ['unreadable (null)', null],
    ['paused', { state: 'paused', stateReason: null }],
  ])('a failed visit with the repository %s: no repository.disabled', (_case, repository) => {
    expect(names(visit({ result: { kind: 'failed', code: 'NETWORK', message: 'reset' }, repository }))).toEqual(['visit.failed']);
  });

  it.each([
    ['the first visit', null, []],
    ['after a success', { status: 'completed' as const, errorCode: null }, []],
    ['after a failure', { status: 'failed' as const, errorCode: 'NETWORK' }, ['repository.recovered']],
  ])('a success %s', (_case, previous, expected) => {
    expect(names(visit({ previous }))).toEqual(expected);
  });

  it('a failure after a failure is not a recovery', () => {
    expect(
      names(visit({ result: { kind: 'failed', code: 'NETWORK', message: 'x' }, previous: { status: 'failed', errorCode: 'NETWORK' } })),
    ).toEqual(['visit.failed']);
  });

  it('force-pushes and branch deletions each become one event listing every ref; other changes none', () => {
    const events = deriveVisitEvents(
      visit({
        refChanges: [
          change('refs/heads/main', 'non_fast_forward'),
          change('refs/heads/dev', 'non_fast_forward'),
          change('refs/heads/gone', 'deleted', 'c'.repeat(40), null),
          change('refs/tags/v1', 'deleted', 'd'.repeat(40), null),
          change('refs/heads/new', 'created', null),
          change('refs/heads/ff', 'fast_forward'),
          change('refs/tags/v2', 'tag_moved'),
        ],
      }),
    );
    expect(events).toEqual([
      {
        event: 'refs.force_pushed',
        details: {
          refs: [
            { name: 'refs/heads/main', oldSha: 'a'.repeat(40), newSha: 'b'.repeat(40) },
            { name: 'refs/heads/dev', oldSha: 'a'.repeat(40), newSha: 'b'.repeat(40) },
          ],
        },
      },
      { event: 'refs.branch_deleted', details: { refs: [{ name: 'refs/heads/gone', oldSha: 'c'.repeat(40) }] } },
    ]);
  });

  it.each([
    ['fast-forwards only', [change('refs/heads/main', 'fast_forward')]],
    ['a deleted tag', [change('refs/tags/v1', 'deleted')]],
    ['a ref merely named like a branch', [change('refs/headsx/main', 'deleted')]],
  ])('no ref events for %s', (_case, refChanges) => {
    expect(names(visit({ refChanges }))).toEqual([]);
  });

  it('recovery comes before the ref events of the same visit', () => {
    expect(
      names(visit({ previous: { status: 'failed', errorCode: 'X' }, refChanges: [change('refs/heads/main', 'non_fast_forward')] })),
    ).toEqual(['repository.recovered', 'refs.force_pushed']);
  });
});

describe(refName.name, () => {
  it('keeps UTF-8 names as text and shows other bytes as base64, never mangled', () => {
    expect(refName(Buffer.from('refs/heads/größe'))).toBe('refs/heads/größe');
    const latin1 = Buffer.from([...Buffer.from('refs/heads/'), 0xe9]);
    expect(refName(latin1)).toBe(`base64:${latin1.toString('base64')}`);
  });
});

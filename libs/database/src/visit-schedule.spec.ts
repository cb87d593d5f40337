import { PERMANENT_VISIT_FAILURES, planNextVisit, VisitScheduleState } from './visit-schedule';

describe(planNextVisit.name, () => {
  const policy = { minIntervalSeconds: 3600, maxIntervalSeconds: 720 * 3600, disableAfterFailures: 3 };
  const state = (overrides: Partial<VisitScheduleState> = {}): VisitScheduleState => ({
    intervalSeconds: 86_400,
    pinnedIntervalSeconds: null,
    consecutiveFailures: 0,
    ...overrides,
  });
  const MIDDLE = 0.5; // no jitter
  const changed = { kind: 'completed', outcome: 'changed' } as const;
  const unchanged = { kind: 'completed', outcome: 'unchanged' } as const;
  const failed = (code: string) => ({ kind: 'failed', code, message: `${code} happened` }) as const;

  it.each([
    ['changed halves', changed, 86_400, 43_200],
    ['unchanged doubles', unchanged, 86_400, 172_800],
    ['changed stops at the minimum', changed, 5000, 3600],
    ['changed at the minimum stays there', changed, 3600, 3600],
    ['unchanged stops at the maximum', unchanged, 600 * 3600, 720 * 3600],
    ['an interval outside the bounds (bounds changed since) is brought back within', unchanged, 5000 * 3600, 720 * 3600],
  ])('%s the interval', (_, result, interval, expected) => {
    const sut = planNextVisit(state({ intervalSeconds: interval, consecutiveFailures: 2 }), result, policy, 0, MIDDLE);
    expect(sut).toEqual({
      intervalSeconds: expected,
      consecutiveFailures: 0,
      delaySeconds: expected,
      success: true,
      changed: result.outcome === 'changed',
      disableReason: null,
    });
  });

  it('waits the pinned interval whatever the outcome, still adapting the interval underneath', () => {
    for (const result of [changed, unchanged]) {
      const sut = planNextVisit(state({ pinnedIntervalSeconds: 7200 }), result, policy, 0, MIDDLE);
      expect(sut.delaySeconds).toBe(7200);
    }
    expect(planNextVisit(state({ pinnedIntervalSeconds: 7200 }), unchanged, policy, 0, MIDDLE).intervalSeconds).toBe(172_800);
  });

  it('jitters the delay by at most ±10%, over the whole range', () => {
    const delays = [0, 0.25, 0.5, 0.75, 0.999999].map((r) => planNextVisit(state(), unchanged, policy, 0, r).delaySeconds);
    expect(delays[0]).toBe(Math.round(172_800 * 0.9));
    expect(delays[4]).toBe(Math.round(172_800 * 1.1));
    expect([...delays].sort((a, b) => a - b)).toEqual(delays);
  });

  it('backs off transient failures exponentially from the minimum, capped, keeping the interval and never disabling', () => {
    let current = state();
    const delays: number[] = [];
    for (let i = 0; i < 14; i++) {
      const sut = planNextVisit(current, failed('NETWORK'), policy, 0, MIDDLE);
      expect(sut).toMatchObject({ intervalSeconds: 86_400, success: false, changed: false, disableReason: null });
      delays.push(sut.delaySeconds);
      current = { ...current, consecutiveFailures: sut.consecutiveFailures };
    }
    expect(delays.slice(0, 4)).toEqual([3600, 7200, 14_400, 28_800]);
    expect(delays.at(-1)).toBe(720 * 3600);
    expect(current.consecutiveFailures).toBe(14);
    // Even an absurd count of failures stays finite and capped.
    expect(planNextVisit(state({ consecutiveFailures: 10_000 }), failed('TIMED_OUT'), policy, 0, MIDDLE).delaySeconds).toBe(720 * 3600);
  });

  it.each([...PERMANENT_VISIT_FAILURES])('disables on the configured streak of %s failures, with the message as the reason', (code) => {
    expect(planNextVisit(state(), failed(code), policy, 1, MIDDLE).disableReason).toBeNull();
    expect(planNextVisit(state(), failed(code), policy, 2, MIDDLE).disableReason).toBeNull();
    const sut = planNextVisit(state({ consecutiveFailures: 2 }), failed(code), policy, 3, MIDDLE);
    expect(sut.disableReason).toContain(`${code} happened`);
    expect(sut.disableReason).toContain('3 visits in a row');
    expect(sut.consecutiveFailures).toBe(3);
  });

  it.each(['NETWORK', 'TIMED_OUT', 'TOO_LARGE', 'CORRUPT_REPOSITORY', 'RUNS_EXHAUSTED', 'GIT_FAILED'])(
    'never disables for %s, however long the streak',
    (code) => {
      expect(planNextVisit(state({ consecutiveFailures: 50 }), failed(code), policy, 50, MIDDLE).disableReason).toBeNull();
    },
  );
});

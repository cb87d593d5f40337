import { afterAttempt, type AttemptOutcome } from './delivery-state';

const at = new Date('2026-12-07T10:00:00Z');
const pending = (attempts: number) => ({ status: 'pending' as const, attempts });
const failures: [string, AttemptOutcome][] = [
  ['a 500', { ok: false, statusCode: 500, error: 'HTTP 500' }],
  ['a redirect', { ok: false, statusCode: 302, error: 'HTTP 302: redirects are not followed' }],
  ['a 404', { ok: false, statusCode: 404, error: 'HTTP 404' }],
  ['a timeout', { ok: false, statusCode: null, error: 'no answer within 10 s' }],
  ['a refused connection', { ok: false, statusCode: null, error: 'ECONNREFUSED: connect ECONNREFUSED' }],
];

describe(afterAttempt.name, () => {
  it.each([200, 201, 202, 204, 299])('a %i answer delivers it, whatever attempt it is', (statusCode) => {
    for (const [attempts, last] of [
      [0, false],
      [3, true],
    ] as const) {
      expect(afterAttempt(pending(attempts), { ok: true, statusCode }, last, at)).toEqual({
        next: { status: 'delivered', attempts: attempts + 1, lastStatusCode: statusCode, lastError: null, finishedAt: at },
        retry: false,
      });
    }
  });

  it.each([199, 300, 500])('never calls %i a success', (statusCode) => {
    expect(() => afterAttempt(pending(0), { ok: true, statusCode }, false, at)).toThrow(RangeError);
  });

  it.each(failures)('%s before the last attempt stays pending and is retried, with the reason recorded', (_case, outcome) => {
    const step = afterAttempt(pending(1), outcome, false, at)!;
    expect(step.retry).toBe(true);
    expect(step.next).toEqual({
      status: 'pending',
      attempts: 2,
      lastStatusCode: outcome.ok ? null : outcome.statusCode,
      lastError: outcome.ok ? null : outcome.error,
      finishedAt: null,
    });
  });

  it.each(failures)('%s on the last attempt fails it for good', (_case, outcome) => {
    const step = afterAttempt(pending(4), outcome, true, at)!;
    expect(step).toMatchObject({ retry: false, next: { status: 'failed', attempts: 5, finishedAt: at } });
  });

  it('a permanent failure (e.g. the URL is now refused) fails it at once', () => {
    const step = afterAttempt(pending(0), { ok: false, statusCode: null, error: 'BLOCKED_BY_POLICY', permanent: true }, false, at)!;
    expect(step).toMatchObject({ retry: false, next: { status: 'failed', attempts: 1, lastError: 'BLOCKED_BY_POLICY' } });
  });

  it.each(['delivered', 'failed'] as const)('a %s delivery is final: a late attempt changes nothing', (status) => {
    expect(afterAttempt({ status, attempts: 3 }, { ok: true, statusCode: 200 }, false, at)).toBeNull();
    expect(afterAttempt({ status, attempts: 3 }, failures[0]![1], true, at)).toBeNull();
  });
});

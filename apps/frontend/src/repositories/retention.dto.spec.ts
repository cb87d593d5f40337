import { RETENTION_BOUNDS, retentionPolicySchema } from './retention.dto';

describe('retentionPolicySchema', () => {
  const sut = retentionPolicySchema;

  it.each([
    [{ keepLast: 2 }, { keepLast: 2, keepDaily: 0, keepWeekly: 0, keepMonthly: 0 }],
    [
      { keepLast: null, keepDaily: 7, keepWeekly: 4, keepMonthly: 12 },
      { keepLast: 0, keepDaily: 7, keepWeekly: 4, keepMonthly: 12 },
    ],
    [{}, { keepLast: 0, keepDaily: 0, keepWeekly: 0, keepMonthly: 0 }],
    [RETENTION_BOUNDS, RETENTION_BOUNDS],
  ])('accepts %j', (body, expected) => {
    expect(sut.parse(body)).toEqual(expected);
  });

  it.each([
    [{ keepLast: -1 }, /keepLast must be at least 0/],
    [{ keepDaily: 1.5 }, /keepDaily must be a whole number/],
    [{ keepWeekly: RETENTION_BOUNDS.keepWeekly + 1 }, /keepWeekly must be at most 520/],
    [{ keepMonthly: '3' }, /keepMonthly must be a whole number/],
    [{ keepEvery: 1 }, /keepEvery/],
    [null, /must be a JSON object/],
    [[1], /must be a JSON object/],
  ])('refuses %j with a message naming the problem', (body, message) => {
    const result = sut.safeParse(body);
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).toMatch(message);
  });
});

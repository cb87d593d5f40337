import { defaultBackoffMs, parseRetryAfter } from './retry-after';

describe(parseRetryAfter.name, () => {
  const now = new Date('2026-11-30T12:00:00Z');
  const max = 15 * 60_000;

  it.each([
    ['0', 0],
    ['3', 3_000],
    [' 120 ', 120_000],
    ['900', max],
  ])('reads delay-seconds %j as %i ms', (value, expected) => {
    expect(parseRetryAfter(value, now, max)).toBe(expected);
  });

  it.each([
    ['Mon, 30 Nov 2026 12:00:30 GMT', 30_000],
    ['Monday, 30-Nov-26 12:01:00 GMT', 60_000],
    ['Mon Nov 30 12:00:05 2026', 5_000 - now.getTimezoneOffset() * 60_000],
    // A date already past asks for no wait at all.
    ['Sun, 29 Nov 2026 12:00:00 GMT', 0],
  ])('reads the HTTP-date %j relative to now', (value, expected) => {
    expect(parseRetryAfter(value, now, max)).toBe(expected);
  });

  it.each([
    ['a huge number of seconds', '99999999999999999999'],
    ['a date years ahead', 'Fri, 31 Dec 2100 23:59:59 GMT'],
  ])('caps %s at the configured maximum', (_, value) => {
    expect(parseRetryAfter(value, now, max)).toBe(max);
  });

  it.each([undefined, '', '   ', '-5', '1.5', '+3', '3s', 'soon', 'null', '2026-11-30T12:00:30Z', 'Mon, 99 Foo 2026 GMT', 'x'.repeat(500)])(
    'gives null for %j: no usable value, the default schedule applies',
    (value) => {
      expect(parseRetryAfter(value, now, max)).toBeNull();
    },
  );
});

describe(defaultBackoffMs.name, () => {
  it('doubles from the minimum and stops at the maximum, whatever the level', () => {
    const delays = [0, 1, 2, 3, 4, 5, 10, 1_000, -1].map((level) => defaultBackoffMs(level, 30_000, 900_000));
    expect(delays).toEqual([30_000, 60_000, 120_000, 240_000, 480_000, 900_000, 900_000, 900_000, 30_000]);
  });
});

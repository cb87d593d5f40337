import type { VerifiedToken } from './auth.types';
import { VerifiedTokenCache } from './verified-token.cache';

const identity = (subject: string): VerifiedToken => ({ subject, username: subject, roles: ['archiver-user'], token: `t-${subject}` });

describe(VerifiedTokenCache.name, () => {
  let now: number;
  const make = (options = {}) => new VerifiedTokenCache({ now: () => now, ...options });
  beforeEach(() => (now = 1_000_000));

  it('returns a remembered verification until the token expires, and forgets it then', () => {
    const sut = make({ maxAgeMs: 60_000 });
    sut.set('a', identity('a'), now + 10_000);
    expect(sut.get('a')).toEqual(identity('a'));
    now += 9_999;
    expect(sut.get('a')).toEqual(identity('a'));
    now += 1;
    expect(sut.get('a')).toBeUndefined();
    expect(sut.size).toBe(0);
  });

  it('never reuses a verification longer than maxAgeMs, whatever the token says', () => {
    const sut = make({ maxAgeMs: 5_000 });
    sut.set('a', identity('a'), now + 3_600_000);
    now += 4_999;
    expect(sut.get('a')).toBeDefined();
    now += 1;
    expect(sut.get('a')).toBeUndefined();
  });

  it.each([
    ['already expired', -1],
    ['expiring right now', 0],
  ])('does not remember a token %s', (_, offset) => {
    const sut = make();
    sut.set('a', identity('a'), now + offset);
    expect(sut.get('a')).toBeUndefined();
  });

  it('matches whole tokens only: another string is another key', () => {
    const sut = make();
    sut.set('abc', identity('a'), now + 10_000);
    for (const other of ['ab', 'abcd', 'ABC', 'abc ', ' abc']) expect(sut.get(other)).toBeUndefined();
  });

  it('holds at most maxEntries, forgetting the oldest first', () => {
    const sut = make({ maxEntries: 3 });
    for (const t of ['a', 'b', 'c', 'd']) sut.set(t, identity(t), now + 10_000);
    expect(sut.size).toBe(3);
    expect(sut.get('a')).toBeUndefined();
    expect(['b', 'c', 'd'].map((t) => sut.get(t)?.subject)).toEqual(['b', 'c', 'd']);
    // Setting a known token again makes it the newest.
    sut.set('b', identity('b'), now + 10_000);
    sut.set('e', identity('e'), now + 10_000);
    expect(sut.get('c')).toBeUndefined();
    expect(sut.get('b')).toBeDefined();
  });

  it('remembers nothing with maxEntries 0', () => {
    const sut = make({ maxEntries: 0 });
    sut.set('a', identity('a'), now + 10_000);
    expect(sut.get('a')).toBeUndefined();
  });
});

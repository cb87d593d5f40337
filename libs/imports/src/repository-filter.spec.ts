import type { ForgeRepository } from './forges/forge.types';
import { ImportErrorCode } from './import.error';
import { assertValidGlob, decideOutcome, matchesGlob } from './repository-filter';

const repository = (relativePath: string, flags: Partial<ForgeRepository> = {}): ForgeRepository => ({
  fullName: `org/${relativePath}`,
  relativePath,
  cloneUrl: `https://forge.example/org/${relativePath}.git`,
  private: false,
  fork: false,
  archived: false,
  ...flags,
});

describe(decideOutcome.name, () => {
  const none = { includeForks: false, includeArchived: false };

  it('leaves forks and archived repositories out unless asked for, before any glob', () => {
    expect(decideOutcome(repository('a', { fork: true }), none)).toBe('skipped_fork');
    expect(decideOutcome(repository('a', { archived: true }), none)).toBe('skipped_archived');
    expect(decideOutcome(repository('a', { fork: true, archived: true }), { ...none, includeForks: true })).toBe('skipped_archived');
    expect(decideOutcome(repository('a', { fork: true, archived: true }), { includeForks: true, includeArchived: true })).toBe('pending');
    expect(decideOutcome(repository('a', { fork: true }), { ...none, include: 'nothing-matches' })).toBe('skipped_fork');
  });

  it('tracks what include matches and exclude does not', () => {
    const filters = { ...none, include: '{api,web}-*', exclude: '*-legacy' };
    const outcomes = Object.fromEntries(
      ['api-core', 'web-ui', 'api-legacy', 'docs', 'API-Gateway', 'apix'].map((name) => [name, decideOutcome(repository(name), filters)]),
    );
    expect(outcomes).toEqual({
      'api-core': 'pending',
      'web-ui': 'pending',
      'api-legacy': 'excluded',
      docs: 'excluded',
      'API-Gateway': 'pending',
      apix: 'excluded',
    });
    expect(decideOutcome(repository('anything'), { ...none, exclude: '*' })).toBe('excluded');
    expect(decideOutcome(repository('anything'), none)).toBe('pending');
  });
});

describe(matchesGlob.name, () => {
  it.each([
    ['api', 'api', true],
    ['api', 'ap?', true],
    ['api', 'a[a-p]i', true],
    ['Api', 'api', true],
    ['sub/api', '*', false],
    ['sub/api', '*/api', true],
    ['sub/deep/api', '**/api', true],
    ['sub/deep/api', 'sub/**', true],
    ['api', '{web,docs}', false],
    ['web', '{web,docs}', true],
  ])('%s against %s: %s', (path, glob, expected) => {
    expect(matchesGlob(path, glob)).toBe(expected);
  });
});

describe(assertValidGlob.name, () => {
  it('refuses empty, too long and control-character globs with INVALID_GLOB', () => {
    for (const glob of ['', 'a'.repeat(257), 'api\n*', 'x\u0000']) {
      expect(() => assertValidGlob('include', glob)).toThrow(expect.objectContaining({ code: ImportErrorCode.INVALID_GLOB }));
    }
    expect(() => assertValidGlob('include', '{api,web}-*')).not.toThrow();
  });
});

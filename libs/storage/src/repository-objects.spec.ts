import { objectKey, objectsReferencedBy } from './repository-objects';
import type { SnapshotFileEntry } from './snapshot-manifest';

describe(objectKey.name, () => {
  it.each([
    ['a'.repeat(40), `objects/aa/${'a'.repeat(38)}`],
    ['0123456789abcdef'.repeat(4), `objects/01/${'0123456789abcdef'.repeat(4).slice(2)}`],
  ])('spreads %s over 256 folders', (sha, key) => {
    expect(objectKey(sha)).toBe(key);
  });

  it.each(['', 'x'.repeat(40), 'A'.repeat(40), 'a'.repeat(39), '../'.repeat(14)])('refuses "%s", which is no git object id', (sha) => {
    expect(() => objectKey(sha)).toThrow(/not a git object id/);
  });
});

describe(objectsReferencedBy.name, () => {
  const entry = (gitSha: string, key = objectKey(gitSha)): SnapshotFileEntry => ({
    path: 'p',
    key,
    size: 1,
    mode: '100644',
    gitSha,
    sha256: 's',
  });

  it('knows blobs under objects/ and not the files of manifests written before objects/ existed', async () => {
    const known = await objectsReferencedBy([entry('a'.repeat(40)), entry('b'.repeat(40), 'snapshots/x/files/p')]);
    expect([...known.keys()]).toEqual(['a'.repeat(40)]);
    expect(known.get('a'.repeat(40))).toEqual({ size: 1, sha256: 's' });
  });

  it('knows the blobs of files walked from listings, which carry no sha256', async () => {
    const { sha256: _none, ...walked } = entry('c'.repeat(40));
    const known = await objectsReferencedBy(
      (async function* () {
        yield walked;
      })(),
    );
    expect(known).toEqual(new Map([['c'.repeat(40), { size: 1 }]]));
  });
});

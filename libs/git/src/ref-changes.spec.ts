import { composeRefChanges, diffRefs, RefChange, RefState, summarizeRefChanges } from './ref-changes';

const sha = (c: string) => c.repeat(40);
const ref = (name: string | Buffer, c: string): RefState => ({ nameBytes: Buffer.isBuffer(name) ? name : Buffer.from(name), sha: sha(c) });
const shown = (changes: RefChange[]) =>
  changes.map((c) => [c.nameBytes.toString('latin1'), c.kind, c.oldSha?.[0] ?? null, c.newSha?.[0] ?? null]);

describe('diffRefs', () => {
  /** Fast-forward exactly when the pair is listed in `ancestors` as "from>to". */
  const ancestry = (...ancestors: string[]) => {
    const asked: string[] = [];
    const check = async (pairs: readonly { from: string; to: string }[]) =>
      pairs.map(({ from, to }) => {
        asked.push(`${from[0]}>${to[0]}`);
        return ancestors.includes(`${from[0]}>${to[0]}`);
      });
    return { check, asked };
  };

  it('reports every kind of move, sorted by name, and asks about ancestry only for moved non-tag refs', async () => {
    const { check, asked } = ancestry('a>b');
    const before = [
      ref('refs/heads/main', 'a'),
      ref('refs/heads/rewritten', 'c'),
      ref('refs/heads/gone', 'e'),
      ref('refs/tags/v1', 'f'),
      ref('refs/heads/same', '1'),
    ];
    const after = [
      ref('refs/heads/main', 'b'),
      ref('refs/heads/rewritten', 'd'),
      ref('refs/heads/new', '9'),
      ref('refs/tags/v1', '2'),
      ref('refs/heads/same', '1'),
    ];
    const sut = await diffRefs(before, after, check);
    expect(shown(sut)).toEqual([
      ['refs/heads/gone', 'deleted', 'e', null],
      ['refs/heads/main', 'fast_forward', 'a', 'b'],
      ['refs/heads/new', 'created', null, '9'],
      ['refs/heads/rewritten', 'non_fast_forward', 'c', 'd'],
      ['refs/tags/v1', 'tag_moved', 'f', '2'],
    ]);
    expect(asked.sort()).toEqual(['a>b', 'c>d']);
  });

  it('treats names as exact bytes: names differing only in invalid UTF-8 are different refs', async () => {
    const one = Buffer.from([...Buffer.from('refs/heads/'), 0xff]);
    const other = Buffer.from([...Buffer.from('refs/heads/'), 0xfe]);
    const sut = await diffRefs([ref(one, 'a')], [ref(other, 'a')], ancestry().check);
    expect(sut.map((c) => [c.nameBytes, c.kind])).toEqual([
      [other, 'created'],
      [one, 'deleted'],
    ]);
  });

  it('finds nothing between equal ref sets and does not ask about ancestry', async () => {
    const { check, asked } = ancestry();
    const refs = [ref('refs/heads/main', 'a'), ref('refs/tags/v1', 'b')];
    expect(await diffRefs(refs, [...refs].reverse(), check)).toEqual([]);
    expect(asked).toEqual([]);
  });

  it('from nothing, everything is created; to nothing, everything deleted', async () => {
    const refs = [ref('refs/heads/main', 'a'), ref('refs/tags/v1', 'b')];
    expect(shown(await diffRefs([], refs, ancestry().check)).map((c) => c[1])).toEqual(['created', 'created']);
    expect(shown(await diffRefs(refs, [], ancestry().check)).map((c) => c[1])).toEqual(['deleted', 'deleted']);
  });
});

describe('composeRefChanges', () => {
  const change = (name: string, kind: RefChange['kind'], from: string | null, to: string | null): RefChange => ({
    nameBytes: Buffer.from(name),
    kind,
    oldSha: from && sha(from),
    newSha: to && sha(to),
  });

  it.each<[string, RefChange[][], ReturnType<typeof shown>]>([
    [
      'fast-forwards in a row stay a fast-forward',
      [[change('refs/heads/m', 'fast_forward', 'a', 'b')], [change('refs/heads/m', 'fast_forward', 'b', 'c')]],
      [['refs/heads/m', 'fast_forward', 'a', 'c']],
    ],
    [
      'one force-push on the way makes it non-fast-forward',
      [[change('refs/heads/m', 'non_fast_forward', 'a', 'b')], [change('refs/heads/m', 'fast_forward', 'b', 'c')]],
      [['refs/heads/m', 'non_fast_forward', 'a', 'c']],
    ],
    [
      'deleted then created again is non-fast-forward',
      [[change('refs/heads/m', 'deleted', 'a', null)], [change('refs/heads/m', 'created', null, 'b')]],
      [['refs/heads/m', 'non_fast_forward', 'a', 'b']],
    ],
    [
      'created then moved is created',
      [[change('refs/heads/m', 'created', null, 'a')], [change('refs/heads/m', 'fast_forward', 'a', 'b')]],
      [['refs/heads/m', 'created', null, 'b']],
    ],
    [
      'created then deleted is nothing',
      [[change('refs/heads/m', 'created', null, 'a')], [change('refs/heads/m', 'deleted', 'a', null)]],
      [],
    ],
    [
      'moved away and back is nothing',
      [[change('refs/heads/m', 'non_fast_forward', 'a', 'b')], [change('refs/heads/m', 'non_fast_forward', 'b', 'a')]],
      [],
    ],
    [
      'a tag moved twice is one tag move',
      [[change('refs/tags/v', 'tag_moved', 'a', 'b')], [change('refs/tags/v', 'tag_moved', 'b', 'c')]],
      [['refs/tags/v', 'tag_moved', 'a', 'c']],
    ],
    [
      'a tag deleted and created elsewhere moved',
      [[change('refs/tags/v', 'deleted', 'a', null)], [change('refs/tags/v', 'created', null, 'b')]],
      [['refs/tags/v', 'tag_moved', 'a', 'b']],
    ],
    [
      'a ref moved then deleted is deleted from where it started',
      [[change('refs/heads/m', 'fast_forward', 'a', 'b')], [change('refs/heads/m', 'deleted', 'b', null)]],
      [['refs/heads/m', 'deleted', 'a', null]],
    ],
    ['no steps, no changes', [], []],
  ])('%s', (_, steps, expected) => {
    expect(shown(composeRefChanges(steps))).toEqual(expected);
  });

  it('keeps refs from different steps apart and sorted', () => {
    const sut = composeRefChanges([[change('refs/heads/z', 'created', null, 'a')], [change('refs/heads/b', 'deleted', 'c', null)]]);
    expect(shown(sut).map((c) => c[0])).toEqual(['refs/heads/b', 'refs/heads/z']);
  });
});

describe('summarizeRefChanges', () => {
  it('counts each kind', () => {
    const kinds: RefChange['kind'][] = [
      'created',
      'created',
      'deleted',
      'fast_forward',
      'non_fast_forward',
      'non_fast_forward',
      'tag_moved',
    ];
    expect(summarizeRefChanges(kinds.map((kind) => ({ kind })))).toEqual({
      created: 2,
      deleted: 1,
      fastForward: 1,
      nonFastForward: 2,
      tagMoved: 1,
    });
  });
});

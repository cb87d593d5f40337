import { composeRefChanges, diffRefs, foldRefChanges, RefChange, RefState, summarizeRefChanges } from './ref-changes';

const sha = (c: string) => c.repeat(40);
const ref = (name: string | Buffer, c: string): RefState => ({ nameBytes: Buffer.isBuffer(name) ? name : Buffer.from(name), sha: sha(c) });
const shown = (changes: RefChange[]) =>
  changes.map((c) => [c.nameBytes.toString('latin1'), c.kind, c.oldSha?.[0] ?? null, c.newSha?.[0] ?? null]);

const change = (name: string, kind: RefChange['kind'], from: string | null, to: string | null): RefChange => ({
  nameBytes: Buffer.from(name),
  kind,
  oldSha: from && sha(from),
  newSha: to && sha(to),
});

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

describe('foldRefChanges', () => {
  /** A small deterministic generator (mulberry32), so a failure names its seed and replays. */
  const random = (seed: number) => () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const NAMES = ['refs/heads/main', 'refs/heads/topic', 'refs/tags/v1', Buffer.from([0x72, 0x65, 0x66, 0x73, 0x2f, 0xff])];

  /** Snapshot-to-snapshot steps of a random history: refs created, moved (fast-forward or not), moved back, deleted, recreated. */
  function history(seed: number, snapshots: number): RefChange[][] {
    const next = random(seed);
    const state = new Map<number, string>();
    const steps: RefChange[][] = [];
    for (let s = 0; s < snapshots; s++) {
      const step: RefChange[] = [];
      NAMES.forEach((name, i) => {
        const nameBytes = Buffer.isBuffer(name) ? name : Buffer.from(name);
        const old = state.get(i) ?? null;
        const roll = next();
        // Few commits, so refs often come back to a commit they pointed at before.
        const commit = sha('abc'[Math.floor(next() * 3)]!);
        let now: string | null = old;
        if (old === null) now = roll < 0.5 ? commit : null;
        else if (roll < 0.15) now = null;
        else if (roll < 0.6) now = commit;
        if (now === old) return;
        const isTag = nameBytes.toString('latin1').startsWith('refs/tags/');
        const kind: RefChange['kind'] =
          old === null ? 'created' : now === null ? 'deleted' : isTag ? 'tag_moved' : next() < 0.5 ? 'fast_forward' : 'non_fast_forward';
        step.push({ nameBytes, kind, oldSha: old, newSha: now });
        if (now === null) state.delete(i);
        else state.set(i, now);
      });
      steps.push(step);
    }
    return steps;
  }

  /** Every range [from, to) of the kept snapshots, composed from the given steps. */
  const ranges = (steps: readonly (readonly RefChange[])[]) => {
    const out: ReturnType<typeof shown>[] = [];
    for (let from = 0; from < steps.length; from++)
      for (let to = from + 1; to <= steps.length; to++) out.push(shown(composeRefChanges(steps.slice(from, to))));
    return out;
  };

  it('removing snapshots one by one never changes the changes between the ones left (500 random histories)', () => {
    for (let seed = 1; seed <= 500; seed++) {
      const steps = history(seed, 7);
      // Steps between kept snapshots: kept[k] is the original index of the k-th snapshot left.
      let kept = steps.map((_, i) => i);
      let folded: RefChange[][] = steps.map((step) => [...step]);
      const next = random(seed * 7919);
      while (folded.length > 1) {
        // Remove the snapshot at the end of step k: its step folds into the next one (or, for
        // the newest, the step simply goes, as a removed newest snapshot leaves no successor).
        const k = Math.floor(next() * (folded.length - 1));
        const { refs } = foldRefChanges(folded[k]!, folded[k + 1]!);
        folded = [...folded.slice(0, k), refs, ...folded.slice(k + 2)];
        kept = [...kept.slice(0, k), ...kept.slice(k + 1)];
        // Each range between kept snapshots reads as composing the original steps it spans.
        const boundaries = [-1, ...kept];
        const expected: ReturnType<typeof shown>[] = [];
        for (let from = 0; from < kept.length; from++)
          for (let to = from + 1; to <= kept.length; to++)
            expected.push(shown(composeRefChanges(steps.slice(boundaries[from]! + 1, boundaries[to]! + 1))));
        expect({ seed, ranges: ranges(folded) }).toEqual({ seed, ranges: expected });
      }
    }
  });

  it('keeps a branch that came back to its commit by a force-push, and counts only net changes', () => {
    const away = change('refs/heads/main', 'non_fast_forward', 'a', 'b');
    const back = change('refs/heads/main', 'non_fast_forward', 'b', 'a');
    const tagBack = [change('refs/tags/v1', 'tag_moved', 'a', 'b'), change('refs/tags/v1', 'tag_moved', 'b', 'a')];
    const folded = foldRefChanges([away, tagBack[0]!, change('refs/heads/new', 'created', null, 'c')], [back, tagBack[1]!]);
    expect(shown(folded.refs)).toEqual([
      ['refs/heads/main', 'non_fast_forward', 'a', 'a'],
      ['refs/heads/new', 'created', null, 'c'],
    ]);
    expect(folded.summary).toEqual({ created: 1, deleted: 0, fastForward: 0, nonFastForward: 0, tagMoved: 0 });
    // On its own it is no change; followed by a fast-forward, the range was not only fast-forwarded.
    expect(composeRefChanges([folded.refs])).toHaveLength(1);
    expect(shown(composeRefChanges([folded.refs, [change('refs/heads/main', 'fast_forward', 'a', 'c')]]))).toEqual([
      ['refs/heads/main', 'non_fast_forward', 'a', 'c'],
      ['refs/heads/new', 'created', null, 'c'],
    ]);
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

/**
 * What happened to a repository's refs between two snapshots. A branch whose new commit does
 * not contain its old one was force-pushed (its history rewritten): the old commits survive
 * only in the earlier snapshot, which is why the archive says so. Tags are not supposed to
 * move at all, so any tag that points elsewhere is reported as moved, whatever the ancestry.
 */
export type RefChangeKind = 'created' | 'deleted' | 'fast_forward' | 'non_fast_forward' | 'tag_moved';

export const REF_CHANGE_KINDS = [
  'created',
  'deleted',
  'fast_forward',
  'non_fast_forward',
  'tag_moved',
] as const satisfies readonly RefChangeKind[];

export interface RefChange {
  /** The ref's name exactly as git stores it (bytes, not necessarily UTF-8). */
  readonly nameBytes: Buffer;
  readonly kind: RefChangeKind;
  /** Null when the ref was created. */
  readonly oldSha: string | null;
  /** Null when the ref was deleted. */
  readonly newSha: string | null;
}

export interface RefChangeSummary {
  created: number;
  deleted: number;
  fastForward: number;
  nonFastForward: number;
  tagMoved: number;
}

/** A ref as a snapshot saw it. */
export interface RefState {
  readonly nameBytes: Buffer;
  readonly sha: string;
}

/** Answers, for each pair, whether `from` is an ancestor of `to` (RepositoryReader.fastForwards). */
export type FastForwardCheck = (pairs: readonly { from: string; to: string }[]) => Promise<boolean[]>;

const TAG_PREFIX = Buffer.from('refs/tags/');

const isTag = (nameBytes: Buffer): boolean => nameBytes.subarray(0, TAG_PREFIX.length).equals(TAG_PREFIX);
const keyOf = (nameBytes: Buffer): string => nameBytes.toString('base64');
const byName = (a: RefChange, b: RefChange): number => Buffer.compare(a.nameBytes, b.nameBytes);

/**
 * The refs that differ between `before` and `after`, by exact name, sorted by name.
 * `fastForwards` is asked only about branch-like refs whose commit changed.
 */
export async function diffRefs(
  before: readonly RefState[],
  after: readonly RefState[],
  fastForwards: FastForwardCheck,
): Promise<RefChange[]> {
  const old = new Map(before.map((ref) => [keyOf(ref.nameBytes), ref]));
  const changes: RefChange[] = [];
  const moved: { nameBytes: Buffer; oldSha: string; newSha: string }[] = [];
  for (const ref of after) {
    const key = keyOf(ref.nameBytes);
    const previous = old.get(key);
    old.delete(key);
    if (!previous) changes.push({ nameBytes: ref.nameBytes, kind: 'created', oldSha: null, newSha: ref.sha });
    else if (previous.sha === ref.sha) continue;
    else if (isTag(ref.nameBytes)) changes.push({ nameBytes: ref.nameBytes, kind: 'tag_moved', oldSha: previous.sha, newSha: ref.sha });
    else moved.push({ nameBytes: ref.nameBytes, oldSha: previous.sha, newSha: ref.sha });
  }
  for (const gone of old.values()) changes.push({ nameBytes: gone.nameBytes, kind: 'deleted', oldSha: gone.sha, newSha: null });
  const ancestry = moved.length > 0 ? await fastForwards(moved.map((m) => ({ from: m.oldSha, to: m.newSha }))) : [];
  moved.forEach((m, i) => changes.push({ ...m, kind: ancestry[i] ? 'fast_forward' : 'non_fast_forward' }));
  return changes.sort(byName);
}

/**
 * The net change over consecutive steps (oldest first), each the diff of one snapshot against
 * the one before it. A branch counts as fast-forwarded only if every step was; one that was
 * deleted and created again in between, or force-pushed on the way, counts as non-fast-forward.
 */
export function composeRefChanges(steps: readonly (readonly RefChange[])[]): RefChange[] {
  return netChanges(steps).filter((change) => change.oldSha !== change.newSha);
}

/**
 * Two consecutive steps as one, for when the snapshot between them is removed
 * (ArchiveRepository.deleteVisit): composing the folded step with any steps around it gives
 * what composing all of them gave. So a branch that moved off and came back to the same commit
 * is kept, with old = new, when it was not fast-forwarded on the way (force-pushed back, or
 * deleted and created again): over a longer range it still was not only fast-forwarded. Such
 * an entry is no change on its own (composeRefChanges drops it), and the summary does not count it.
 */
export function foldRefChanges(older: readonly RefChange[], newer: readonly RefChange[]): { refs: RefChange[]; summary: RefChangeSummary } {
  const refs = netChanges([older, newer]).filter(
    (change) => change.oldSha !== change.newSha || (change.oldSha !== null && change.kind === 'non_fast_forward'),
  );
  return { refs, summary: summarizeRefChanges(refs.filter((change) => change.oldSha !== change.newSha)) };
}

/** Every ref the steps touched, from its first old to its last new commit, sorted by name. */
function netChanges(steps: readonly (readonly RefChange[])[]): RefChange[] {
  const net = new Map<string, { nameBytes: Buffer; oldSha: string | null; newSha: string | null; allFastForward: boolean }>();
  for (const step of steps) {
    for (const change of step) {
      const key = keyOf(change.nameBytes);
      const seen = net.get(key);
      const fastForward = change.kind === 'fast_forward';
      if (!seen) net.set(key, { nameBytes: change.nameBytes, oldSha: change.oldSha, newSha: change.newSha, allFastForward: fastForward });
      else net.set(key, { ...seen, newSha: change.newSha, allFastForward: seen.allFastForward && fastForward });
    }
  }
  const changes: RefChange[] = [];
  for (const { nameBytes, oldSha, newSha, allFastForward } of net.values()) {
    changes.push({ nameBytes, oldSha, newSha, kind: netKind(nameBytes, oldSha, newSha, allFastForward) });
  }
  return changes.sort(byName);
}

function netKind(nameBytes: Buffer, oldSha: string | null, newSha: string | null, allFastForward: boolean): RefChangeKind {
  if (oldSha === null) return 'created';
  if (newSha === null) return 'deleted';
  if (isTag(nameBytes)) return 'tag_moved';
  return allFastForward ? 'fast_forward' : 'non_fast_forward';
}

export function summarizeRefChanges(changes: readonly Pick<RefChange, 'kind'>[]): RefChangeSummary {
  const summary: RefChangeSummary = { created: 0, deleted: 0, fastForward: 0, nonFastForward: 0, tagMoved: 0 };
  const field = {
    created: 'created',
    deleted: 'deleted',
    fast_forward: 'fastForward',
    non_fast_forward: 'nonFastForward',
    tag_moved: 'tagMoved',
  } as const satisfies Record<RefChangeKind, keyof RefChangeSummary>;
  for (const change of changes) summary[field[change.kind]]++;
  return summary;
}

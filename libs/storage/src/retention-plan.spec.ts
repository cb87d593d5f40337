import type { SnapshotBundleLink } from './bundle-chain';
import { describeChainAfter, type PlannedSnapshot, planRetention } from './retention-plan';

const link = (archiveId: string, kind: 'full' | 'incremental', size = 10): SnapshotBundleLink => ({
  archiveId,
  kind,
  key: `snapshots/${archiveId}/${kind === 'full' ? 'repo' : 'increment'}.bundle`,
  size,
  sha256: archiveId.padEnd(64, '0'),
});

/** Visits one day apart; each changed one extends the chain before it (a new checkpoint where `full`). */
function history(spec: readonly (string | { id: string; full?: boolean; unchanged?: string; nothingNew?: boolean })[]): PlannedSnapshot[] {
  const out: PlannedSnapshot[] = [];
  let chain: SnapshotBundleLink[] = [];
  for (const [i, raw] of spec.entries()) {
    const s = typeof raw === 'string' ? { id: raw } : raw;
    const finishedAt = new Date(Date.UTC(2026, 10, 1 + i));
    if (s.unchanged) {
      out.push({ id: s.id, finishedAt, outcome: 'unchanged', contentFrom: s.unchanged, chain: [], prefixBytes: 1, objects: new Map() });
      continue;
    }
    if (!s.nothingNew) chain = s.full || chain.length === 0 ? [link(s.id, 'full')] : [...chain, link(s.id, 'incremental')];
    out.push({
      id: s.id,
      finishedAt,
      outcome: 'changed',
      contentFrom: null,
      chain,
      prefixBytes: 100,
      objects: new Map([
        [`objects/${s.id}`, 5],
        ['objects/shared', 7],
      ]),
    });
  }
  return out;
}

const keepLast = (n: number) => ({ keepLast: n, keepDaily: 0, keepWeekly: 0, keepMonthly: 0 });
const after = (plan: ReturnType<typeof planRetention>) =>
  Object.fromEntries(plan.keep.map((k) => [k.id, describeChainAfter(k.chainAfter)]));

describe(planRetention.name, () => {
  it('plans nothing for a keep-everything policy', () => {
    const sut = planRetention(history(['a', 'b', 'c']), null);
    expect(sut.prune).toEqual([]);
    expect(sut.rechain).toEqual([]);
    expect(sut.removedBytes).toBe(0);
  });

  it('gives the oldest kept snapshot of a chain a checkpoint and each later one an increment on the one before', () => {
    const sut = planRetention(history(['a', 'b', 'c', 'd']), keepLast(2));
    expect(sut.prune.map((p) => p.id)).toEqual(['b', 'a']);
    expect(after(sut)).toEqual({ d: 'new increment on c', c: 'new checkpoint' });
    expect(sut.rechain).toHaveLength(1);
    expect(sut.rechain[0]!.restoreChain.map((l) => l.archiveId)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('leaves chains alone that need nothing pruned: a checkpoint of a kept snapshot and what builds on it', () => {
    const sut = planRetention(history(['a', 'b', { id: 'c', full: true }, 'd']), keepLast(2));
    expect(after(sut)).toEqual({ d: 'unchanged', c: 'unchanged' });
    expect(sut.rechain).toEqual([]);
  });

  it('rechains from the first kept snapshot that needs a pruned bundle, kept ones before it stay', () => {
    const snapshots = history(['a', 'b', 'c', 'd']);
    const oneMonthAndLast = planRetention(
      snapshots.map((s, i) => ({ ...s, finishedAt: new Date(Date.UTC(2026, i < 2 ? 9 : 10, 1 + i)) })),
      { keepLast: 1, keepDaily: 0, keepWeekly: 0, keepMonthly: 2 },
    );
    // Kept: d (last, 2026-11) and b (2026-10); pruned: c and a. b needs a's checkpoint.
    expect(oneMonthAndLast.prune.map((p) => p.id)).toEqual(['c', 'a']);
    expect(after(oneMonthAndLast)).toEqual({ d: 'new increment on b', b: 'new checkpoint' });
  });

  it('keeps what a kept unchanged visit points at and leaves the visit itself unchanged', () => {
    const sut = planRetention(history(['a', 'b', { id: 'u', unchanged: 'b' }]), keepLast(1));
    expect(sut.keep.map((k) => k.id)).toEqual(['u', 'b']);
    expect(after(sut)).toEqual({ u: 'unchanged', b: 'new checkpoint' });
    expect(sut.prune.map((p) => p.id)).toEqual(['a']);
  });

  it('rechains a kept snapshot that stored no bundle of its own (nothing new) like any other', () => {
    const sut = planRetention(history(['a', 'b', { id: 'c', nothingNew: true }]), keepLast(2));
    expect(after(sut)).toEqual({ c: 'new increment on b', b: 'new checkpoint' });
  });

  it('counts the bytes that go: pruned prefixes and blobs only pruned snapshots map', () => {
    const sut = planRetention(history(['a', 'b', 'c']), keepLast(1));
    expect(sut.unreferencedObjects).toEqual(['objects/a', 'objects/b']);
    expect(sut.removedBytes).toBe(2 * 100 + 2 * 5);
  });

  it('orders pruned snapshots newest first so an unchanged visit goes before its content', () => {
    const sut = planRetention(history(['a', { id: 'u', unchanged: 'a' }, { id: 'b', full: true }, 'c']), keepLast(2));
    expect(sut.prune.map((p) => p.id)).toEqual(['u', 'a']);
  });

  it('handles chains that branch (two visits built on the same snapshot) by applying both', () => {
    const [a, b, c] = history(['a', 'b', 'c']);
    const branch: PlannedSnapshot = {
      ...c!,
      id: 'c2',
      finishedAt: new Date(c!.finishedAt.getTime() + 1),
      chain: [...b!.chain, link('c2', 'incremental')],
    };
    const sut = planRetention([a!, b!, c!, branch], keepLast(2));
    expect(sut.rechain[0]!.restoreChain.map((l) => l.archiveId)).toEqual(['a', 'b', 'c', 'c2']);
    expect(after(sut)).toEqual({ c2: 'new increment on c', c: 'new checkpoint' });
  });
});

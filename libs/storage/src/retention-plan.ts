import type { SnapshotBundleLink } from './bundle-chain';
import { type RetentionCandidate, type RetentionPolicy, selectRetention } from './retention-selection';

/** A completed snapshot with what it stores and depends on, as the planner needs it. */
export interface PlannedSnapshot extends RetentionCandidate {
  /** The chain a restore applies today (readBundleChain: overrides included); empty for an unchanged visit. */
  chain: readonly SnapshotBundleLink[];
  /** Bytes under its own prefix (manifest, bundles, older layouts' files): they go with it. */
  prefixBytes: number;
  /** The blobs under `objects/` (and `trees/` listings) it references (referencedObjectKeys), with their sizes (listings: 0). */
  objects: ReadonlyMap<string, number>;
}

/** What a kept snapshot's restore depends on once the prune is done. */
export type ChainAfterPrune = { kind: 'unchanged' } | { kind: 'checkpoint' } | { kind: 'increment'; on: string };

/**
 * Kept snapshots of one chain (same checkpoint) of which at least one depends on a bundle of a
 * pruned snapshot: from the first such one on, each gets a new chain — a full checkpoint of its
 * refs for the first, then an increment on the previous one's refs.
 */
export interface RechainGroup {
  /** Every bundle the members' current chains apply, once each, in an order git accepts. */
  restoreChain: SnapshotBundleLink[];
  /** Oldest first. */
  members: { id: string; chainAfter: Exclude<ChainAfterPrune, { kind: 'unchanged' }> }[];
}

export interface RetentionPlan {
  keep: { id: string; reasons: string[]; chainAfter: ChainAfterPrune }[];
  /** Newest first: an unchanged visit goes before the snapshot it points at. */
  prune: { id: string }[];
  rechain: RechainGroup[];
  /** Blobs no kept snapshot maps a path to. */
  unreferencedObjects: string[];
  removedBytes: number;
}

/**
 * What a prune under `policy` does, decided from the snapshots alone so that the dry run
 * (GET .../retention/preview) and the worker's prune agree. Nothing a kept snapshot restores
 * through is removed before its new chain exists (the worker's order, see apps/worker/src/prune).
 */
export function planRetention(snapshots: readonly PlannedSnapshot[], policy: RetentionPolicy | null): RetentionPlan {
  const selection = selectRetention(snapshots, policy);
  const byId = new Map(snapshots.map((s) => [s.id, s]));
  const pruned = new Set(selection.prune.map((p) => p.id));
  const rechain = rechainGroups(
    selection.keep.map((k) => byId.get(k.id)!),
    pruned,
  );
  const after = new Map(rechain.flatMap((group) => group.members.map((m) => [m.id, m.chainAfter] as const)));
  const keptObjects = new Set(selection.keep.flatMap((k) => [...byId.get(k.id)!.objects.keys()]));
  const unreferenced = new Map<string, number>();
  for (const { id } of selection.prune) {
    for (const [key, size] of byId.get(id)!.objects) if (!keptObjects.has(key)) unreferenced.set(key, size);
  }
  const prefixBytes = selection.prune.reduce((sum, { id }) => sum + byId.get(id)!.prefixBytes, 0);
  return {
    keep: selection.keep.map((k) => ({ ...k, chainAfter: after.get(k.id) ?? { kind: 'unchanged' } })),
    prune: selection.prune,
    rechain,
    unreferencedObjects: [...unreferenced.keys()].sort(),
    removedBytes: prefixBytes + [...unreferenced.values()].reduce((sum, size) => sum + size, 0),
  };
}

function rechainGroups(kept: readonly PlannedSnapshot[], pruned: ReadonlySet<string>): RechainGroup[] {
  const groups = new Map<string, PlannedSnapshot[]>();
  for (const snapshot of kept) {
    const checkpoint = snapshot.chain[0];
    if (snapshot.outcome === 'unchanged' || !checkpoint) continue;
    groups.set(checkpoint.key, [...(groups.get(checkpoint.key) ?? []), snapshot]);
  }
  const result: RechainGroup[] = [];
  for (const members of groups.values()) {
    members.sort((a, b) => a.finishedAt.getTime() - b.finishedAt.getTime() || (a.id < b.id ? -1 : 1));
    const first = members.findIndex((m) => m.chain.some((link) => pruned.has(link.archiveId)));
    if (first < 0) continue;
    // Later members build on the first's new chain, so they are rechained too (their old
    // chains include the pruned bundle, or branch off before it).
    const rebuilt = members.slice(first);
    const restoreChain: SnapshotBundleLink[] = [];
    const seen = new Set<string>();
    for (const member of rebuilt) {
      for (const link of member.chain) {
        if (!seen.has(link.key)) {
          seen.add(link.key);
          restoreChain.push(link);
        }
      }
    }
    result.push({
      restoreChain,
      members: rebuilt.map((m, i) => ({
        id: m.id,
        chainAfter: i === 0 ? { kind: 'checkpoint' as const } : { kind: 'increment' as const, on: rebuilt[i - 1]!.id },
      })),
    });
  }
  return result;
}

/** How the dry run says it: `unchanged`, `new checkpoint`, `new increment on <archive id>`. */
export function describeChainAfter(chainAfter: ChainAfterPrune): string {
  if (chainAfter.kind === 'checkpoint') return 'new checkpoint';
  if (chainAfter.kind === 'increment') return `new increment on ${chainAfter.on}`;
  return 'unchanged';
}

import path from 'node:path';
import { rm } from 'node:fs/promises';
import type { GitRef, RepositoryReader } from '@archiver/git';
import {
  type BundleChainLimits,
  incrementsTooLarge,
  mayExtendChain,
  type SnapshotBundleLink,
  type SnapshotManifest,
  type SnapshotWriter,
} from '@archiver/storage';

export interface BundlePlan {
  /** The chain that restores the snapshot before this one (empty: there is none to build on). */
  chainBefore: readonly SnapshotBundleLink[];
  /** Its refs' object ids: the history an increment need not store again. */
  prerequisites: readonly string[];
  limits: BundleChainLimits;
}

export type SnapshotBundleFields = Pick<SnapshotManifest, 'bundle' | 'bundleKind' | 'bundleChain'>;

/**
 * Stores the snapshot's bundle: an increment on top of the snapshot before it when the chain
 * has room (depth and share of the checkpoint, both settings), else a full bundle that starts a
 * new chain. Nothing earlier is rewritten: each bundle lives under its own snapshot's prefix.
 */
export async function storeSnapshotBundle(
  archiveId: string,
  reader: RepositoryReader,
  refs: readonly GitRef[],
  plan: BundlePlan,
  writer: SnapshotWriter,
  workDir: string,
  signal: AbortSignal,
): Promise<SnapshotBundleFields> {
  // git cannot bundle nothing: a repository without refs restores as an empty repository.
  if (refs.length === 0) return { bundle: null, bundleChain: [] };
  if (mayExtendChain(plan.chainBefore, plan.limits)) {
    const increment = await reader.createIncrementalBundle(path.join(workDir, 'increment.bundle'), plan.prerequisites, { signal });
    // Nothing new (a branch deleted, a ref moved to a stored commit): the refs say it all.
    if (!increment) return { bundle: null, bundleChain: [...plan.chainBefore] };
    if (!incrementsTooLarge(plan.chainBefore, increment.sizeBytes, plan.limits)) {
      const bundle = await writer.uploadBundle(increment.path, 'incremental');
      return { bundle, bundleKind: 'incremental', bundleChain: [...plan.chainBefore, { ...bundle, archiveId, kind: 'incremental' }] };
    }
    await rm(increment.path, { force: true });
  }
  const full = await reader.createBundle(path.join(workDir, 'repo.bundle'), refs, { signal });
  if (!full) return { bundle: null, bundleChain: [] };
  const bundle = await writer.uploadBundle(full.path, 'full');
  return { bundle, bundleKind: 'full', bundleChain: [{ ...bundle, archiveId, kind: 'full' }] };
}

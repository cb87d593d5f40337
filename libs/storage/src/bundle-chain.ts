import type { Readable } from 'node:stream';
import { readSnapshotManifest, type SnapshotBundle, type SnapshotManifest } from './snapshot-manifest';

/**
 * One bundle a restore applies: a full bundle (a checkpoint) first, then the increments of the
 * snapshots after it, each holding only what the snapshot before it did not have.
 */
export interface SnapshotBundleLink extends SnapshotBundle {
  /** The snapshot (archive) that wrote this bundle under its own prefix. */
  archiveId: string;
  kind: 'full' | 'incremental';
}

export interface BundleChainLimits {
  maxChainDepth: number;
  maxChainShare: number;
}

type ManifestSource = { getObject(bucket: string, key: string): Promise<Readable> };

/**
 * The bundles that restore a snapshot, in the order to apply them; then its refs are set from
 * its manifest (an increment leaves out refs that did not move, so the bundles alone do not
 * say where every ref points). An unchanged visit restores like the snapshot holding its content;
 * a manifest from before increments has one full bundle; an empty repository has none.
 */
export async function readBundleChain(
  store: ManifestSource,
  bucket: string,
  manifest: Pick<SnapshotManifest, 'archiveId' | 'bundle' | 'bundleChain' | 'contentFrom'>,
): Promise<SnapshotBundleLink[]> {
  if (manifest.bundleChain) return manifest.bundleChain;
  if (manifest.contentFrom) {
    const content = await readSnapshotManifest(store, bucket, manifest.contentFrom.prefix);
    if (content.contentFrom) return []; // never written: contentFrom always names a changed snapshot
    return readBundleChain(store, bucket, content);
  }
  return manifest.bundle ? [{ ...manifest.bundle, archiveId: manifest.archiveId, kind: 'full' }] : [];
}

/** Whether the next snapshot may add an increment to `chain`, or must start a new one with a full bundle. */
export function mayExtendChain(chain: readonly SnapshotBundleLink[], limits: BundleChainLimits): boolean {
  return chain.length > 0 && chain[0]!.kind === 'full' && chain.length < limits.maxChainDepth;
}

/** Whether adding an increment of `incrementBytes` would make the increments outweigh their share of the checkpoint. */
export function incrementsTooLarge(chain: readonly SnapshotBundleLink[], incrementBytes: number, limits: BundleChainLimits): boolean {
  const [checkpoint, ...increments] = chain;
  if (!checkpoint) return true;
  const total = increments.reduce((sum, link) => sum + link.size, incrementBytes);
  return total > limits.maxChainShare * checkpoint.size;
}

/** Where the snapshot's HEAD points: a branch (exact bytes), or a detached commit. */
export function headOf(manifest: Pick<SnapshotManifest, 'defaultBranch' | 'defaultBranchBase64' | 'commitSource' | 'commit'>): {
  headBranch: Buffer | null;
  detachedHead: string | null;
} {
  if (manifest.defaultBranchBase64 !== undefined)
    return { headBranch: Buffer.from(manifest.defaultBranchBase64, 'base64'), detachedHead: null };
  if (manifest.defaultBranch !== null) return { headBranch: Buffer.from(manifest.defaultBranch, 'utf8'), detachedHead: null };
  return { headBranch: null, detachedHead: manifest.commitSource === 'HEAD' ? manifest.commit : null };
}

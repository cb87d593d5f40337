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

type ManifestSource = {
  getObject(bucket: string, key: string): Promise<Readable>;
  listObjects(bucket: string, prefix: string): AsyncIterable<{ name: string }>;
};

/** Where retention writes a kept snapshot's new bundles and the chain that replaces its manifest's. */
export const CHAINS_FOLDER = 'chains/';
export const CHAIN_OVERRIDE_FILE = 'chain.json';

/**
 * `<prefix>chains/<stamp>/chain.json`: written by a prune (apps/worker/src/prune) after every
 * bundle it names, so a kept snapshot no longer depends on bundles of pruned ones. The manifest
 * is never rewritten; the newest override under the snapshot's prefix wins.
 */
export interface ChainOverride {
  bundleChain: SnapshotBundleLink[];
  /** The prune that wrote it (a run id), for people reading the bucket. */
  prunedBy: string;
  writtenAt: string;
}

/** `<prefix>chains/<stamp>/`: stamps sort by time, so the newest override is the greatest key. */
export function chainOverrideFolder(prefix: string, at: Date): string {
  const stamp = at.toISOString().replace(/[-:.]/g, '');
  return `${prefix}${CHAINS_FOLDER}${stamp}/`;
}

/**
 * The bundles that restore a snapshot, in the order to apply them; then its refs are set from
 * its manifest (an increment leaves out refs that did not move, so the bundles alone do not
 * say where every ref points). The newest chain override under `prefix` (written by a prune)
 * wins over the manifest's chain. An unchanged visit restores like the snapshot holding its
 * content; a manifest from before increments has one full bundle; an empty repository has none.
 */
export async function readBundleChain(
  store: ManifestSource,
  bucket: string,
  prefix: string,
  manifest: Pick<SnapshotManifest, 'archiveId' | 'bundle' | 'bundleChain' | 'contentFrom'>,
): Promise<SnapshotBundleLink[]> {
  if (manifest.contentFrom) {
    const content = await readSnapshotManifest(store, bucket, manifest.contentFrom.prefix);
    if (content.contentFrom) return []; // never written: contentFrom always names a changed snapshot
    return readBundleChain(store, bucket, manifest.contentFrom.prefix, content);
  }
  const override = await readChainOverride(store, bucket, prefix);
  if (override) return override.bundleChain;
  if (manifest.bundleChain) return manifest.bundleChain;
  return manifest.bundle ? [{ ...manifest.bundle, archiveId: manifest.archiveId, kind: 'full' }] : [];
}

/** The newest chain override of the snapshot at `prefix`, or null when a prune never rechained it. */
export async function readChainOverride(store: ManifestSource, bucket: string, prefix: string): Promise<ChainOverride | null> {
  let newest: string | null = null;
  for await (const object of store.listObjects(bucket, `${prefix}${CHAINS_FOLDER}`)) {
    if (object.name.endsWith(`/${CHAIN_OVERRIDE_FILE}`) && (newest === null || object.name > newest)) newest = object.name;
  }
  if (newest === null) return null;
  const chunks: Buffer[] = [];
  for await (const chunk of (await store.getObject(bucket, newest)) as AsyncIterable<Buffer>) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as ChainOverride;
}

/** Whether a snapshot can build on `chain`: there is one, and it starts with a full bundle. */
export function canBuildOn(chain: readonly SnapshotBundleLink[]): boolean {
  return chain.length > 0 && chain[0]!.kind === 'full';
}

/**
 * Whether an increment of `incrementBytes` may join `chain`: the chain stays within the depth
 * limit, and its increments within their share of the checkpoint. Otherwise a new full bundle
 * starts a new chain, so no restore ever needs more than `maxChainDepth` bundles.
 */
export function hasRoomFor(chain: readonly SnapshotBundleLink[], incrementBytes: number, limits: BundleChainLimits): boolean {
  const [checkpoint, ...increments] = chain;
  if (!checkpoint || chain.length + 1 > limits.maxChainDepth) return false;
  const total = increments.reduce((sum, link) => sum + link.size, incrementBytes);
  return total <= limits.maxChainShare * checkpoint.size;
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

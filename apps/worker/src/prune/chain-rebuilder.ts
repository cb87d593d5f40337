import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Injectable, Logger } from '@nestjs/common';
import { type CreatedBundle, RepositoryReader, setRefsExactly } from '@archiver/git';
import {
  CHAIN_OVERRIDE_FILE,
  type ChainOverride,
  chainOverrideFolder,
  type LoadedSnapshot,
  ObjectStoreRepository,
  type RechainGroup,
  refsOfManifest,
  type SnapshotBundleLink,
} from '@archiver/storage';
import { SnapshotRestorer } from '../bundle/snapshot-restorer';
import { WorkDirs } from '../clone/work-dir';

/**
 * Gives the kept snapshots of one chain new bundles that depend on no pruned snapshot. The
 * union of their current chains is restored once into a scratch repository (SnapshotRestorer:
 * every bundle checked against its manifest, the newest member's refs compared) — chains are
 * cumulative, so it holds every object each member's refs reach. Then, oldest first, the
 * repository's refs are set to the member's and bundled: a full checkpoint for the first, an
 * increment on the previous member's refs for each later one (none when nothing is new).
 * Bundles go under the member's own prefix (`chains/<stamp>/`), then `chain.json` naming them:
 * nothing stored is rewritten, and a crash leaves either the old chain or a complete new one.
 */
@Injectable()
export class ChainRebuilder {
  private readonly logger = new Logger(ChainRebuilder.name);

  constructor(
    private readonly store: ObjectStoreRepository,
    private readonly restorer: SnapshotRestorer,
    private readonly workDirs: WorkDirs,
  ) {}

  async rebuild(
    group: RechainGroup,
    snapshots: ReadonlyMap<string, LoadedSnapshot>,
    runId: string,
    at: Date,
    signal: AbortSignal,
  ): Promise<void> {
    const members = group.members.map((m) => snapshots.get(m.id)!);
    const newest = members[members.length - 1]!;
    const dir = await this.workDirs.create(`prune-${newest.id}`, runId);
    try {
      const loaded = await this.restorer.load(newest.bucket, newest.prefix);
      const gitDir = await this.restorer.restore({ ...loaded, chain: group.restoreChain }, dir, signal);
      const reader = new RepositoryReader(gitDir);
      let current = loaded.refs;
      let chain: SnapshotBundleLink[] = [];
      for (const [index, member] of members.entries()) {
        const refs = refsOfManifest(member.manifest?.refs ?? []);
        await setRefsExactly(gitDir, current, refs, { signal });
        const folder = chainOverrideFolder(member.prefix, at);
        const file = path.join(dir, `${index}.bundle`);
        const created =
          index === 0
            ? await reader.createBundle(file, undefined, { signal })
            : await reader.createIncrementalBundle(
                file,
                current.map((ref) => ref.sha),
                { signal },
              );
        if (created) {
          const kind = index === 0 ? 'full' : 'incremental';
          const key = `${folder}${kind === 'full' ? 'checkpoint' : 'increment'}.bundle`;
          chain = [...chain, { ...(await this.upload(member.bucket, key, created)), archiveId: member.id, kind }];
          await rm(created.path, { force: true });
        }
        const override: ChainOverride = { bundleChain: chain, prunedBy: runId, writtenAt: at.toISOString() };
        await this.store.putBuffer(
          member.bucket,
          `${folder}${CHAIN_OVERRIDE_FILE}`,
          Buffer.from(JSON.stringify(override, null, 2)),
          'application/json',
        );
        current = refs;
      }
      this.logger.log({ msg: 'rechained kept snapshots', snapshots: members.map((m) => m.id), bundlesRestored: group.restoreChain.length });
    } finally {
      await this.workDirs.remove(dir);
    }
  }

  private async upload(bucket: string, key: string, bundle: CreatedBundle): Promise<{ key: string; size: number; sha256: string }> {
    const hash = createHash('sha256');
    await pipeline(createReadStream(bundle.path), hash);
    await this.store.putStream(bucket, key, createReadStream(bundle.path), bundle.sizeBytes, 'application/x-git-bundle');
    return { key, size: bundle.sizeBytes, sha256: hash.digest('hex') };
  }
}

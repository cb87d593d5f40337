import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Injectable, Logger } from '@nestjs/common';
import { ArchiveRepository } from '@archiver/database';
import { RepositoryReader, restoreFromBundles } from '@archiver/git';
import { PermanentJobError } from '@archiver/queue';
import {
  consolidatedBundleKey,
  headOf,
  ObjectStoreRepository,
  readBundleChain,
  readManifestRefs,
  readSnapshotManifest,
  refsOfManifest,
  type SnapshotBundleLink,
  StorageError,
  StorageErrorCode,
} from '@archiver/storage';
import { WorkDirs } from '../clone/work-dir';

/**
 * Builds one bundle of a whole snapshot from its chain (a full bundle and increments), like
 * Software Heritage's vault: restore the chain into a scratch repository exactly as a person's
 * restore script would, check every ref against the manifest, bundle it, and store it beside
 * the snapshot as `consolidated.bundle`. A bundle whose bytes do not match the manifest's
 * sha256 fails the job: a corrupted snapshot is reported, never papered over.
 */
@Injectable()
export class BundleConsolidator {
  private readonly logger = new Logger(BundleConsolidator.name);

  constructor(
    private readonly archives: ArchiveRepository,
    private readonly store: ObjectStoreRepository,
    private readonly workDirs: WorkDirs,
  ) {}

  async consolidate(archiveId: string, signal: AbortSignal): Promise<void> {
    const archive = await this.archives.findById(archiveId);
    if (!archive || archive.status !== 'completed' || !archive.bucket || !archive.prefix) {
      throw new PermanentJobError(`archive ${archiveId} is not a completed snapshot`);
    }
    const { bucket, prefix } = archive;
    const key = consolidatedBundleKey(prefix);
    if (await this.exists(bucket, key)) return;
    const manifest = await readSnapshotManifest(this.store, bucket, prefix);
    const [chain, refs] = await Promise.all([
      readBundleChain(this.store, bucket, manifest),
      readManifestRefs(this.store, bucket, manifest),
    ]);
    const expected = refsOfManifest(refs);
    if (expected.length === 0) throw new PermanentJobError(`archive ${archiveId} has no refs: there is nothing to bundle`);

    const dir = await this.workDirs.create(archiveId, randomUUID());
    try {
      const files: string[] = [];
      for (const [i, link] of chain.entries()) files.push(await this.download(bucket, link, path.join(dir, `${i + 1}.bundle`), signal));
      const gitDir = path.join(dir, 'repo.git');
      await restoreFromBundles(gitDir, files, { refs: expected, ...headOf(manifest) }, { signal });
      const reader = new RepositoryReader(gitDir);
      const restored = await reader.refs({ signal });
      const shown = (list: readonly { nameBytes: Buffer; sha: string }[]) =>
        list.map((r) => `${r.sha} ${r.nameBytes.toString('base64')}`).sort();
      if (JSON.stringify(shown(restored)) !== JSON.stringify(shown(expected))) {
        throw new PermanentJobError(`archive ${archiveId}: the restored refs differ from the manifest's`);
      }
      const bundle = await reader.createBundle(path.join(dir, 'consolidated.bundle'), restored, { signal });
      if (!bundle) throw new PermanentJobError(`archive ${archiveId} has no refs: there is nothing to bundle`);
      await this.store.putStream(bucket, key, createReadStream(bundle.path), bundle.sizeBytes, 'application/x-git-bundle');
      this.logger.log({ msg: 'consolidated bundle written', archiveId, bundles: chain.length, bytes: bundle.sizeBytes });
    } finally {
      await this.workDirs.remove(dir);
    }
  }

  private async download(bucket: string, link: SnapshotBundleLink, file: string, signal: AbortSignal): Promise<string> {
    const hash = createHash('sha256');
    const tap = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        hash.update(chunk);
        done(null, chunk);
      },
    });
    await pipeline(await this.store.getObject(bucket, link.key), tap, createWriteStream(file), { signal });
    const { size } = await stat(file);
    if (size !== link.size || hash.digest('hex') !== link.sha256) {
      throw new PermanentJobError(`bundle ${link.key} of snapshot ${link.archiveId} is corrupted: its bytes do not match the manifest`);
    }
    return file;
  }

  private async exists(bucket: string, key: string): Promise<boolean> {
    try {
      await this.store.statObject(bucket, key);
      return true;
    } catch (error) {
      if (error instanceof StorageError && error.code === StorageErrorCode.NOT_FOUND) return false;
      throw error;
    }
  }
}

import { HttpStatus, Injectable } from '@nestjs/common';
import type { AuthUser } from '@archiver/auth';
import {
  buildRestoreScript,
  contentManifestOf,
  exactText,
  lfsObjectKey,
  headOf,
  ObjectStoreRepository,
  readBundleChain,
  readManifestRefs,
  readSnapshotManifest,
  refsOfManifest,
  StorageError,
  StorageErrorCode,
  storedLfsObjects,
} from '@archiver/storage';
import { ApiError, ApiErrorCode } from '../api/api.error';
import { ArchiveRequestsService, checkoutDirFor } from './archive-requests.service';
import type { RestorePlanView } from './restore.view';

/** Restores of big chains take a while: the links outlive a slow download of every bundle. */
export const RESTORE_LINK_SECONDS = 60 * 60;

/**
 * How to rebuild any completed snapshot with plain git: its bundle chain (a full bundle, then
 * increments) as presigned links, every ref, and a script that applies them.
 */
@Injectable()
export class RestoreService {
  constructor(
    private readonly archives: ArchiveRequestsService,
    private readonly store: ObjectStoreRepository,
  ) {}

  async plan(id: string, user: AuthUser): Promise<RestorePlanView> {
    const archive = await this.archives.findVisible(id, user);
    const { bucket, prefix } = archive;
    if (archive.status !== 'completed' || bucket === null || prefix === null) {
      throw new ApiError(
        HttpStatus.NOT_FOUND,
        ApiErrorCode.NoBundle,
        `Archive ${id} is ${archive.status}; it can be restored once it has completed`,
      );
    }
    try {
      const manifest = await readSnapshotManifest(this.store, bucket, prefix);
      const [chain, refs, content] = await Promise.all([
        readBundleChain(this.store, bucket, prefix, manifest),
        readManifestRefs(this.store, bucket, manifest),
        contentManifestOf(this.store, bucket, manifest),
      ]);
      const lfsObjects = await Promise.all(
        storedLfsObjects(content.lfs).map(async ({ oid, size }) => ({
          oid,
          size,
          url: await this.store.presignedGet(bucket, lfsObjectKey(oid), RESTORE_LINK_SECONDS),
        })),
      );
      const bundles = await Promise.all(
        chain.map(async (link) => ({
          url: await this.store.presignedGet(bucket, link.key, RESTORE_LINK_SECONDS),
          kind: link.kind,
          archiveId: link.archiveId,
          size: link.size,
          sha256: link.sha256,
        })),
      );
      const exactRefs = refsOfManifest(refs);
      const head = headOf(manifest);
      return {
        archiveId: archive.id,
        expiresInSeconds: RESTORE_LINK_SECONDS,
        bundles,
        refs: exactRefs.map(({ nameBytes, sha }) => {
          const name = exactText(nameBytes);
          return { ref: name.text, ...(name.base64 !== undefined && { refBase64: name.base64 }), sha };
        }),
        headBranch: manifest.defaultBranch,
        lfsObjects,
        script: buildRestoreScript({
          archiveId: archive.id,
          url: archive.url,
          finishedAt: manifest.timestamps.finishedAt,
          defaultDir: `${checkoutDirFor(archive.normalizedUrl)}.git`,
          bundleUrls: bundles.map((b) => b.url),
          refs: exactRefs,
          ...head,
          lfsObjects,
        }),
      };
    } catch (error) {
      if (!(error instanceof StorageError && error.code === StorageErrorCode.NOT_FOUND)) throw error;
      throw new ApiError(
        HttpStatus.NOT_FOUND,
        ApiErrorCode.NoBundle,
        `Archive ${id}: a manifest its restore needs is missing from object storage (${error.message})`,
      );
    }
  }
}

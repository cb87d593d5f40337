import { setTimeout as sleep } from 'node:timers/promises';
import { HttpStatus, Injectable } from '@nestjs/common';
import type { AuthUser } from '@archiver/auth';
import { QueueName, QueueRepository } from '@archiver/queue';
import {
  consolidatedBundleKey,
  ObjectStoreRepository,
  readBundleChain,
  readSnapshotManifest,
  type SnapshotManifest,
  StorageError,
  StorageErrorCode,
} from '@archiver/storage';
import { ApiError, ApiErrorCode } from '../api/api.error';
import { ArchiveRequestsService, checkoutDirFor, DOWNLOAD_LINK_SECONDS } from './archive-requests.service';
import type { BundleStatusView, DownloadLinkView } from './archive.view';

/** How long GET …/download waits for a small snapshot's bundle to be built before answering "ask again". */
export const DOWNLOAD_WAIT_MS = 20_000;
const POLL_MS = 250;

interface LocatedBundle {
  /** The snapshot whose content this is (an unchanged visit's is the snapshot it points at). */
  contentId: string;
  bucket: string;
  key: string;
  /** The key is the snapshot's own full bundle; otherwise the consolidated bundle, built on request. */
  direct: boolean;
  links: number;
  checkoutDir: string;
}

export class BundlePreparingError extends ApiError {
  readonly retryAfterSeconds = 5;
  constructor(id: string, links: number) {
    super(
      HttpStatus.CONFLICT,
      ApiErrorCode.BundlePreparing,
      `Archive ${id} is stored as ${links} bundles (a full one and increments); one bundle of it is being built — ask again in a few seconds, or restore it now with GET /api/archives/${id}/restore`,
    );
  }
}

/**
 * One downloadable bundle per snapshot. A snapshot stored as a single full bundle is served as
 * it is; one stored as increments gets a consolidated bundle, built once by a worker job
 * (BundleConsolidator) and kept beside the snapshot.
 */
@Injectable()
export class BundleService {
  constructor(
    private readonly archives: ArchiveRequestsService,
    private readonly store: ObjectStoreRepository,
    private readonly queues: QueueRepository,
  ) {}

  /** How the snapshot's bundle stands; with `request`, a missing one is asked for (a job). */
  async status(id: string, user: AuthUser, request: boolean): Promise<BundleStatusView> {
    const located = await this.locate(id, user);
    if (await this.exists(located)) return { status: 'ready', ...(await this.link(located)) };
    if (request) await this.queues.ensureJob(QueueName.Bundle, { archiveId: located.contentId });
    const state = await this.queues.jobState(QueueName.Bundle, located.contentId);
    if (state === 'failed') {
      const reason = (await this.queues.failedReason(QueueName.Bundle, located.contentId)) ?? 'unknown';
      return { status: 'failed', message: `Building the bundle failed: ${reason}. POST again to retry.` };
    }
    if (state === 'unknown') return { status: 'absent', message: `Not built yet: POST /api/archives/${id}/bundle builds it` };
    return { status: 'pending', message: `Building one bundle from ${located.links} stored bundles` };
  }

  /** A short-lived link to one bundle of the whole snapshot, waiting briefly while it is built. */
  async download(id: string, user: AuthUser): Promise<DownloadLinkView> {
    const located = await this.locate(id, user);
    if (await this.exists(located)) return this.link(located);
    await this.queues.ensureJob(QueueName.Bundle, { archiveId: located.contentId });
    for (let waited = 0; waited < DOWNLOAD_WAIT_MS; waited += POLL_MS) {
      await sleep(POLL_MS);
      if (await this.exists(located)) return this.link(located);
      if ((await this.queues.jobState(QueueName.Bundle, located.contentId)) === 'failed') {
        const reason = (await this.queues.failedReason(QueueName.Bundle, located.contentId)) ?? 'unknown';
        throw new ApiError(HttpStatus.CONFLICT, ApiErrorCode.BundleFailed, `Building the bundle of archive ${id} failed: ${reason}`);
      }
    }
    throw new BundlePreparingError(id, located.links);
  }

  private async locate(id: string, user: AuthUser): Promise<LocatedBundle> {
    const archive = await this.archives.findVisible(id, user);
    const { bucket, prefix } = archive;
    if (archive.status !== 'completed' || bucket === null || prefix === null) {
      throw new ApiError(
        HttpStatus.NOT_FOUND,
        ApiErrorCode.NoBundle,
        `Archive ${id} is ${archive.status}; its download exists once it has completed`,
      );
    }
    try {
      let manifest = await readSnapshotManifest(this.store, bucket, prefix);
      let content = { id: archive.id, prefix };
      if (manifest.contentFrom) {
        content = { id: manifest.contentFrom.archiveId, prefix: manifest.contentFrom.prefix };
        manifest = await readSnapshotManifest(this.store, bucket, content.prefix);
      }
      const chain = await readBundleChain(this.store, bucket, content.prefix, manifest);
      if (chain.length === 0) throw noBundle(id, manifest);
      const direct = chain.length === 1 && chain[0]!.archiveId === content.id && chain[0]!.kind === 'full';
      return {
        contentId: content.id,
        bucket,
        key: direct ? chain[0]!.key : consolidatedBundleKey(content.prefix),
        direct,
        links: chain.length,
        checkoutDir: checkoutDirFor(archive.normalizedUrl),
      };
    } catch (error) {
      if (!(error instanceof StorageError && error.code === StorageErrorCode.NOT_FOUND)) throw error;
      throw new ApiError(
        HttpStatus.NOT_FOUND,
        ApiErrorCode.NoBundle,
        `Archive ${id}: a manifest its bundle needs is missing from object storage`,
      );
    }
  }

  private async exists(located: LocatedBundle): Promise<boolean> {
    try {
      await this.store.statObject(located.bucket, located.key);
      return true;
    } catch (error) {
      if (!(error instanceof StorageError && error.code === StorageErrorCode.NOT_FOUND)) throw error;
      if (located.direct)
        throw new ApiError(HttpStatus.NOT_FOUND, ApiErrorCode.NoBundle, `The bundle ${located.key} is missing from object storage`);
      return false;
    }
  }

  private async link(located: LocatedBundle): Promise<DownloadLinkView> {
    return {
      url: await this.store.presignedGet(located.bucket, located.key, DOWNLOAD_LINK_SECONDS),
      expiresInSeconds: DOWNLOAD_LINK_SECONDS,
      cloneCommand: `git clone repo.bundle ${located.checkoutDir}`,
    };
  }
}

function noBundle(id: string, manifest: SnapshotManifest): ApiError {
  const why = manifest.empty ? 'the repository had no commits, so there is nothing to bundle' : 'its manifest lists no bundle';
  return new ApiError(HttpStatus.NOT_FOUND, ApiErrorCode.NoBundle, `Archive ${id} has no bundle: ${why}`);
}

import { HttpStatus, Inject, Injectable, Logger } from '@nestjs/common';
import { AuthError, type AuthUser } from '@archiver/auth';
import { APP_CONFIG, type AppConfig } from '@archiver/config';
import {
  ACTIVE_STATUSES,
  ArchiveCredentialRepository,
  ArchiveRepository,
  type ArchiveRecord,
  type ArchiveStatus,
  TrackedRepositoryRepository,
} from '@archiver/database';
import { foldRefChanges, GitError } from '@archiver/git';
import { RepositoryTracker } from '@archiver/tracking';
import {
  contentManifestOf,
  LATEST_FOLDER,
  lfsSummaryOf,
  LatestView,
  OBJECTS_FOLDER,
  ObjectStoreRepository,
  readBundleChain,
  readSnapshotManifest,
  StorageError,
  StorageErrorCode,
  TREES_FOLDER,
} from '@archiver/storage';
import { ApiError, ApiErrorCode } from '../api/api.error';
import { toApiErrorResponse } from '../api/api-error.mapper';
import type { ArchiveScope } from './archive.dto';
import { archiveNotFound } from './archive-id.pipe';
import { ArchivePageView, ArchiveView, BatchItemView, BatchResultView, SubmittedArchiveView, toArchiveView } from './archive.view';

export const DOWNLOAD_LINK_SECONDS = 5 * 60;
// Each URL costs a DNS lookup and an insert; a few at a time keeps a 100-URL batch quick
// without letting one request monopolise the database pool.
const BATCH_CONCURRENCY = 8;

/** Runs once the archive row exists (`created`: a new one) and before it is queued, e.g. to store its own credential. */
export type BeforeQueue = (archive: ArchiveRecord, created: boolean) => Promise<void>;

export interface ArchiveListRequest {
  scope: ArchiveScope;
  status?: ArchiveStatus;
  page: number;
  pageSize: number;
}

/**
 * The API's use cases. The frontend records an archive and hands it to the injector; every
 * later stage belongs to the injector and the workers, which stamp the same row.
 */
@Injectable()
export class ArchiveRequestsService {
  private readonly logger = new Logger(ArchiveRequestsService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly archives: ArchiveRepository,
    private readonly store: ObjectStoreRepository,
    private readonly trackers: TrackedRepositoryRepository,
    private readonly archiveCredentials: ArchiveCredentialRepository,
    // Recording a visit is shared with tracking and imports (libs/tracking).
    private readonly tracker: RepositoryTracker,
  ) {}

  /**
   * Vets the URL (syntax, scheme, credentials, and every address its host resolves to) before
   * anything is written, so a refused URL leaves no trace. Returns the requester's active
   * archive of the same repository instead of a second one (`existing: true`).
   */
  async submit(url: string, user: AuthUser, beforeQueue?: BeforeQueue): Promise<SubmittedArchiveView> {
    const { archive, created } = await this.tracker.submitVisit(url, user, beforeQueue);
    return { ...this.view(archive, user), existing: !created };
  }

  /**
   * Each URL on its own: a refused URL becomes that item's error and the others go ahead.
   * Identical URLs in one batch collapse into one archive through the same dedupe as
   * concurrent single submissions. Failures that are not about a URL (database down) fail the
   * whole request; items already recorded by then are found again (`existing`) on a retry.
   */
  async submitBatch(urls: string[], user: AuthUser): Promise<BatchResultView> {
    const items = await mapWithConcurrency(urls, BATCH_CONCURRENCY, async (url): Promise<BatchItemView> => {
      try {
        const { existing, ...archive } = await this.submit(url, user);
        return { url, archive, existing };
      } catch (error) {
        if (!(error instanceof GitError)) throw error;
        return { url, error: toApiErrorResponse(error).body.error };
      }
    });
    return { items };
  }

  /**
   * Newest first. `mine` is the caller's own archives for everyone, admins included: an admin's
   * own work must not drown in everyone else's. `all` is the admin's view of everyone's.
   */
  async list({ scope, ...query }: ArchiveListRequest, user: AuthUser): Promise<ArchivePageView> {
    if (scope === 'all' && !user.isAdmin) {
      throw AuthError.forbidden(
        `Listing everyone's archives (scope=all) needs the role archiver-admin, which your account (${user.username}) lacks; use scope=mine for your own.`,
      );
    }
    const { items, total } = await this.archives.list({ ...query, requestedBy: scope === 'all' ? undefined : user.subject });
    return { items: items.map((archive) => this.view(archive, user)), total, page: query.page, pageSize: query.pageSize };
  }

  /** One archive; a completed one also says what its snapshot holds of Git LFS (from its manifest). */
  async get(id: string, user: AuthUser): Promise<ArchiveView> {
    const archive = await this.findVisible(id, user);
    const view = await this.view(archive, user);
    if (archive.status !== 'completed' || !archive.bucket || !archive.prefix) return view;
    try {
      const manifest = await readSnapshotManifest(this.store, archive.bucket, archive.prefix);
      return { ...view, lfs: lfsSummaryOf((await contentManifestOf(this.store, archive.bucket, manifest)).lfs) };
    } catch (error) {
      // The row stands on its own; only the LFS summary is unknown (null would claim "none").
      this.logger.warn({ msg: 'could not read the manifest for the LFS summary', archiveId: id, error: (error as Error).message });
      return view;
    }
  }

  /**
   * Removes a finished archive: its snapshot's prefix first, then the row. In that order a
   * storage failure leaves the row in place, so the admin can simply delete again; the reverse
   * would orphan objects for good. File blobs under objects/ are shared by the repository's
   * snapshots and stay while any snapshot remains (unreferenced ones are left for retention:
   * removing them safely needs a per-repository lock, see the README). When the last completed
   * snapshot of the bucket goes and no archive of the repository is active, everything goes.
   */
  async delete(id: string): Promise<void> {
    const archive = await this.archives.findById(id);
    if (!archive) throw archiveNotFound(id);
    if ((ACTIVE_STATUSES as readonly ArchiveStatus[]).includes(archive.status)) {
      throw new ApiError(
        HttpStatus.CONFLICT,
        ApiErrorCode.ArchiveActive,
        `Archive ${id} is ${archive.status}; wait until it finishes (completed or failed), then delete it`,
      );
    }
    // Append-only: a snapshot that later ones build on is not removed alone.
    if (await this.isBuiltOnLater(archive)) {
      throw new ApiError(
        HttpStatus.CONFLICT,
        ApiErrorCode.ArchiveReferenced,
        `Archive ${id} holds content later visits of its repository need (their content or bundles build on it); delete those visits first`,
      );
    }
    if (archive.bucket !== null && archive.prefix !== null) {
      await this.moveLatestOff(archive, archive.bucket, archive.prefix);
      await this.store.removeSnapshotPrefix(archive.bucket, archive.prefix);
    }
    // Visits after it then count their ref changes from the one before it (GET /api/repositories/:id/changes).
    await this.archives.deleteVisit(id, foldRefChanges);
    if (archive.bucket !== null && (await this.archives.countSnapshotsInBucket(archive.bucket)) === 0) {
      await this.emptyBucket(archive, archive.bucket);
    }
    this.logger.log({ msg: 'deleted archive', archiveId: id, bucket: archive.bucket, prefix: archive.prefix });
  }

  /**
   * If latest/ shows the snapshot being deleted, it moves to the newest other one first, while
   * the deleted manifest still says what the view holds (so only the difference is copied).
   */
  private async moveLatestOff(deleted: ArchiveRecord, bucket: string, prefix: string): Promise<void> {
    try {
      const latest = new LatestView(this.store);
      const shown = await latest.record(bucket);
      if (!shown || (shown.prefix !== prefix && shown.contentPrefix !== prefix)) return;
      const newest = await this.archives.findPreviousCompletedVisit(deleted.repositoryId, deleted.id);
      if (newest?.bucket === bucket && newest.prefix) await latest.show(bucket, newest.prefix);
    } catch (error) {
      // The view is a convenience: the delete goes on, and the next visit rebuilds latest/.
      this.logger.warn({ msg: 'could not move latest/ to the newest remaining snapshot', bucket, error: (error as Error).message });
    }
  }

  /** The last completed snapshot went: its blobs, listings and view go too, then the bucket if nothing else is in it. */
  private async emptyBucket(deleted: ArchiveRecord, bucket: string): Promise<void> {
    // A run of the repository may be storing blobs it found present: only an idle repository is emptied.
    if ((await this.archives.countActiveOfRepository(deleted.repositoryId)) === 0) {
      // Listings before blobs, a run's writes in reverse: a listing never names a blob already gone.
      for (const folder of [LATEST_FOLDER, TREES_FOLDER, OBJECTS_FOLDER]) await this.store.removeSnapshotPrefix(bucket, folder);
    }
    // Only empties go: a failed archive's leftovers or another snapshot being written keep it.
    const removed = await this.store.removeBucketIfEmpty(bucket);
    if (removed) this.logger.log({ msg: 'removed empty bucket', bucket });
  }

  /**
   * Whether the next completed visit points at this snapshot's content (unchanged) or restores
   * through its bundle (an increment on it). Later visits build on that next one, so it is the
   * only one to ask.
   */
  private async isBuiltOnLater(archive: ArchiveRecord): Promise<boolean> {
    const next = await this.archives.findNextCompletedVisit(archive);
    if (!next?.bucket || !next.prefix) return false;
    try {
      const manifest = await readSnapshotManifest(this.store, next.bucket, next.prefix);
      if (manifest.contentFrom?.archiveId === archive.id) return true;
      return (await readBundleChain(this.store, next.bucket, next.prefix, manifest)).some((link) => link.archiveId === archive.id);
    } catch (error) {
      // The next snapshot's manifest is gone: nothing readable builds on this one through it.
      if (error instanceof StorageError && error.code === StorageErrorCode.NOT_FOUND) return false;
      throw error;
    }
  }

  /**
   * Yours, a visit of a repository you track (the scheduler asks in its first tracker's name),
   * or any for admins; anything else answers exactly like a missing archive, so ids reveal nothing.
   * A repository that has (or had) a credential is private: its snapshots (completed visits)
   * hold what someone's credential fetched, so only trackers who proved access with their own
   * (and admins) see them, whoever asked for the visit; its other visits hold no content and
   * stay visible as before, errors included (README "Who sees a private repository's content").
   */
  async findVisible(id: string, user: AuthUser): Promise<ArchiveRecord> {
    const archive = await this.archives.findById(id);
    if (!archive) throw archiveNotFound(id);
    if (user.isAdmin) return archive;
    const access = await this.trackers.contentAccess(archive.repositoryId, user.subject);
    if (access?.private && archive.status === 'completed') {
      if (access.tracked && access.granted) return archive;
      // Made with the requester's own credential (a one-off archive): they proved they may read what it fetched.
      if (archive.requestedBy === user.subject && (await this.archiveCredentials.kindOf(archive.id)) !== null) return archive;
    } else if (archive.requestedBy === user.subject || access?.tracked) {
      return archive;
    }
    throw archiveNotFound(id);
  }

  /**
   * The console signs in with MinIO's root credentials, so only admins get its link; everyone
   * else browses snapshots in the app (README: "Browsing in the MinIO console").
   */
  private view(archive: ArchiveRecord, user: AuthUser): ArchiveView {
    return toArchiveView(archive, user.isAdmin ? this.config.minio.consoleUrl : null);
  }
}

/** `https://host/owner/My.Repo` → `My.Repo`: a directory name git accepts and no shell reinterprets. */
export function checkoutDirFor(normalizedUrl: string): string {
  const last = normalizedUrl.split('/').pop() ?? '';
  const safe = decodeURIComponentSafe(last)
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[-.]+/, '');
  return safe === '' ? 'repository' : safe;
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

async function mapWithConcurrency<T, R>(inputs: readonly T[], limit: number, run: (input: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(inputs.length);
  let next = 0;
  let failed = false;
  const lanes = Array.from({ length: Math.min(limit, inputs.length) }, async () => {
    // After one failure the request fails as a whole: stop starting new work for it.
    while (next < inputs.length && !failed) {
      const index = next++;
      try {
        results[index] = await run(inputs[index]);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  });
  await Promise.all(lanes);
  return results;
}

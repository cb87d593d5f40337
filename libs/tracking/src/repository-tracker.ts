import { Injectable, Logger } from '@nestjs/common';
import {
  ArchiveRepository,
  type ArchiveRecord,
  type RepositorySettingsChange,
  type TrackedRepositoryRecord,
  TrackedRepositoryRepository,
} from '@archiver/database';
import { UrlPolicy } from '@archiver/git';
import { QueueError, QueueName, QueueRepository } from '@archiver/queue';
import { TrackingError, TrackingErrorCode } from './tracking.error';
import { type Requester, TrackingLimits } from './tracking-limits';

/** How a caller's credential is checked and stored; the tracker decides when. */
export interface CredentialToSet {
  /** Throws when this requester may not give the repository a credential now (e.g. CREDENTIAL_ALREADY_SET). */
  assertMaySet(repository: TrackedRepositoryRecord, alreadyTracks: boolean): void;
  store(repositoryId: string, url: string): Promise<void>;
}

export interface TrackResult {
  repositoryId: string;
  /** The requester tracked it already: nothing changed (but a given credential). */
  existing: boolean;
}

/**
 * Tracking a repository and recording a visit: the one code path of POST /api/repositories,
 * POST /api/archives and the worker's organization imports, so every way in applies the same
 * URL policy, quotas and dedupe.
 */
@Injectable()
export class RepositoryTracker {
  private readonly logger = new Logger(RepositoryTracker.name);

  constructor(
    private readonly policy: UrlPolicy,
    private readonly repositories: TrackedRepositoryRepository,
    private readonly archives: ArchiveRepository,
    private readonly queues: QueueRepository,
    private readonly limits: TrackingLimits,
  ) {}

  /**
   * Vets the URL (syntax, scheme, every address its host resolves to) before anything is
   * written, so a refused URL leaves no trace. Returns the requester's active archive of the
   * same repository instead of a second one (`created: false`). `beforeQueue` runs once the row
   * exists and before its job is queued (a one-off archive's own credential is stored there, so
   * the run finds it); if it throws, nothing is queued.
   */
  async submitVisit(
    url: string,
    user: Requester,
    beforeQueue?: (archive: ArchiveRecord, created: boolean) => Promise<void>,
  ): Promise<{ archive: ArchiveRecord; created: boolean }> {
    const vetted = await this.policy.check(url);
    await this.limits.assertStorageLeft(user);
    const result = await this.archives.createOrFindActive({
      url: vetted.url,
      normalizedUrl: vetted.normalizedUrl,
      requestedBy: user.subject,
      requestedByName: user.username,
    });
    await beforeQueue?.(result.archive, result.created);
    if (result.created) await this.enqueuePending(result.archive.id);
    return result;
  }

  /**
   * Vets the URL first (nothing is written for a refused one). A caller who already tracks it
   * gets it back unchanged; otherwise the first visit is recorded and queued, then the caller
   * tracks the repository that visit created or found.
   */
  async track(url: string, intervalHours: number | undefined, user: Requester, credential?: CredentialToSet): Promise<TrackResult> {
    const vetted = await this.policy.check(url);
    const known = await this.repositories.findByNormalizedUrl(vetted.normalizedUrl);
    const alreadyTracks = known !== null && (await this.repositories.isTrackedBy(known.id, user.subject));
    if (credential) {
      // Stored before the first visit is queued, so that visit already uses it.
      const repository = known ?? (await this.repositories.upsertForUrl(vetted.url, vetted.normalizedUrl));
      credential.assertMaySet(repository, alreadyTracks);
      await credential.store(repository.id, vetted.url);
    }
    if (known && alreadyTracks) return { repositoryId: known.id, existing: true };
    await this.limits.assertCanTrackMore(user);
    // The visit's insert created the repository (or found it) under the same normalized URL.
    const { archive: visit } = await this.submitVisit(vetted.url, user);
    const created = await this.repositories.findByNormalizedUrl(vetted.normalizedUrl);
    if (!created) throw notFound(vetted.normalizedUrl);
    await this.repositories.track(created.id, user.subject, user.username);
    const repository = await this.repositories.findById(created.id);
    if (!repository) throw notFound(created.id);
    const change: RepositorySettingsChange = {};
    if (intervalHours !== undefined) change.pinnedIntervalSeconds = hoursToSeconds(intervalHours);
    if (repository.nextVisitAt === null || intervalHours !== undefined) {
      change.nextVisitAt = nextVisitAfter(
        new Date(),
        change.pinnedIntervalSeconds ?? repository.pinnedIntervalSeconds ?? repository.intervalSeconds,
      );
    }
    await this.repositories.updateSettings(created.id, change);
    this.logger.log({ msg: 'tracking repository', repositoryId: created.id, user: user.username, visitId: visit.id });
    return { repositoryId: created.id, existing: false };
  }

  /**
   * The row is the source of truth and is already committed. If Redis is down the submission
   * still succeeds (status pending): the injector's reconciler finds archives left pending
   * without a job and enqueues them, so nothing is lost, only delayed.
   */
  private async enqueuePending(archiveId: string): Promise<void> {
    try {
      await this.queues.enqueue(QueueName.Pending, { archiveId });
    } catch (error) {
      if (!(error instanceof QueueError)) throw error;
      this.logger.warn({ msg: 'enqueue failed; the reconciler will queue the archive', archiveId, error: error.message });
    }
  }
}

/** Someone who does not track a repository yet may give it a credential only when it has none. */
export function assertMaySetOnTrack(
  repository: Pick<TrackedRepositoryRecord, 'id' | 'credentialKind'>,
  alreadyTracks: boolean,
  user: Requester,
): void {
  if (repository.credentialKind === null || alreadyTracks || user.isAdmin) return;
  throw new TrackingError(
    TrackingErrorCode.CREDENTIAL_ALREADY_SET,
    `Repository ${repository.id} already has a credential, set by someone who tracks it; track it without one, or ask them (or an admin) to change it with PATCH /api/repositories/${repository.id}`,
  );
}

function notFound(what: string): TrackingError {
  return new TrackingError(TrackingErrorCode.NOT_FOUND, `Repository ${what} was removed while it was being tracked; track it again`);
}

export function hoursToSeconds(hours: number): number {
  return Math.round(hours * 3600);
}

/** `from` + interval, but never before `notBefore` (an overdue visit is simply due now). */
export function nextVisitAfter(from: Date, intervalSeconds: number, notBefore?: Date): Date {
  const next = new Date(from.getTime() + intervalSeconds * 1000);
  return notBefore && next < notBefore ? notBefore : next;
}

import { HttpStatus, Inject, Injectable, Logger } from '@nestjs/common';
import { AuthError, type AuthUser } from '@archiver/auth';
import { APP_CONFIG, type AppConfig } from '@archiver/config';
import {
  type ContentAccess,
  ACTIVE_STATUSES,
  type ArchiveStatus,
  type RepositorySettingsChange,
  type TrackedRepositoryRecord,
  TrackedRepositoryRepository,
  VerificationRepository,
} from '@archiver/database';
import { GitErrorCode, type RefChangeSummary, UrlPolicy } from '@archiver/git';
import { QueueName, QueueRepository } from '@archiver/queue';
import { hoursToSeconds, nextVisitAfter, RepositoryTracker } from '@archiver/tracking';
import { ApiError, ApiErrorCode } from '../api/api.error';
import { ArchiveRequestsService } from '../archives/archive-requests.service';
import type { SubmittedArchiveView } from '../archives/archive.view';
import { toArchiveView } from '../archives/archive.view';
import { RepositoryCredentialsService } from './repository-credentials.service';
import type { CredentialInput } from './repository.dto';
import { repositoryNotFound } from './repository-id.pipe';
import { RepositoryDetailView, RepositoryPageView, RepositoryView, toRepositoryView, TrackedRepositoryView } from './repository.view';

/** Codes this API adds (never rename: clients match on them). */
export const RepositoryErrorCode = {
  VisitCooldown: 'VISIT_COOLDOWN',
  NotTracked: 'NOT_TRACKED',
} as const;

export interface RepositoryListRequest {
  state?: TrackedRepositoryRecord['state'];
  q?: string;
  page: number;
  pageSize: number;
}

export interface RepositoryUpdate {
  state?: 'active' | 'paused';
  intervalHours?: number | null;
  /** Sets or rotates the credential; null removes it. */
  credential?: CredentialInput | null;
}

/**
 * Tracked repositories: who follows which repository, and its schedule. Visits are archives;
 * they are recorded and queued through ArchiveRequestsService, exactly as POST /api/archives.
 */
@Injectable()
export class RepositoriesService {
  private readonly logger = new Logger(RepositoriesService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly policy: UrlPolicy,
    private readonly repositories: TrackedRepositoryRepository,
    private readonly archives: ArchiveRequestsService,
    private readonly verifications: VerificationRepository,
    private readonly tracker: RepositoryTracker,
    private readonly credentials: RepositoryCredentialsService,
    private readonly queues: QueueRepository,
  ) {}

  /**
   * Through RepositoryTracker (libs/tracking), the path organization imports take too. A
   * credential is checked against the URL and stored before the first visit is queued.
   */
  async track(
    url: string,
    intervalHours: number | undefined,
    user: AuthUser,
    credential?: CredentialInput,
  ): Promise<TrackedRepositoryView> {
    const { repositoryId, existing } = await this.tracker.track(
      url,
      intervalHours,
      user,
      credential && {
        assertMaySet: (repository, alreadyTracks) => this.credentials.assertMaySetOnTrack(repository, alreadyTracks, user),
        store: (id, vettedUrl) => this.credentials.set(id, vettedUrl, credential, user),
      },
    );
    return { ...(await this.summaryView(repositoryId)), existing };
  }

  /** The caller's tracked repositories; everything for archiver-admin. */
  async list(query: RepositoryListRequest, user: AuthUser): Promise<RepositoryPageView> {
    const { items, total } = await this.repositories.list({ ...query, subject: user.isAdmin ? undefined : user.subject });
    const failed = await this.verifications.countFailedByRepository(items.map((item) => item.id));
    return { items: items.map((item) => toRepositoryView(item, failed.get(item.id))), total, page: query.page, pageSize: query.pageSize };
  }

  async get(id: string, visitsPage: number, visitsPageSize: number, user: AuthUser): Promise<RepositoryDetailView> {
    await this.findVisible(id, user);
    // A tracker without access to a private repository's content sees its visits, but not its snapshots.
    const access = user.isAdmin ? null : await this.repositories.contentAccess(id, user.subject);
    const hidden = access !== null && !mayReadContent(access);
    const [summary, page] = await Promise.all([this.summaryView(id), this.repositories.listVisits(id, visitsPage, visitsPageSize)]);
    const visits = hidden ? { items: page.items.filter((visit) => visit.status !== 'completed'), total: page.total } : page;
    return {
      ...summary,
      visits: {
        items: visits.items.map((archive) => ({
          ...toArchiveView(archive, user.isAdmin ? this.config.minio.consoleUrl : null),
          changes: (archive.changeSummary as RefChangeSummary | null) ?? null,
        })),
        total: visits.total,
        page: visitsPage,
        pageSize: visitsPageSize,
      },
    };
  }

  async update(id: string, update: RepositoryUpdate, user: AuthUser): Promise<RepositoryView> {
    const repository = await this.findVisible(id, user);
    const now = new Date();
    const change: RepositorySettingsChange = {};
    if (update.state === 'paused' && repository.state !== 'paused') {
      Object.assign(change, { state: 'paused', stateReason: `paused by ${user.username}` });
    } else if (update.state === 'active' && repository.state !== 'active') {
      // Re-enabling forgives the failures that disabled it and looks again at once.
      Object.assign(change, { state: 'active', stateReason: null, consecutiveFailures: 0 });
      if (repository.state === 'disabled' || repository.nextVisitAt === null) change.nextVisitAt = now;
    }
    if (update.intervalHours !== undefined) {
      change.pinnedIntervalSeconds = update.intervalHours === null ? null : hoursToSeconds(update.intervalHours);
      if (change.nextVisitAt === undefined && repository.nextVisitAt !== null) {
        const interval = change.pinnedIntervalSeconds ?? repository.intervalSeconds;
        change.nextVisitAt = nextVisitAfter(repository.lastVisitAt ?? now, interval, now);
      }
    }
    await this.repositories.updateSettings(id, change);
    // findVisible let only trackers and admins this far.
    if (update.credential !== undefined) await this.credentials.set(id, repository.url, update.credential, user);
    return this.summaryView(id);
  }

  /**
   * Queues a visit now. A cooldown since the newest visit keeps people from hammering a host
   * (or the workers) by clicking; a disabled repository is re-enabled, as asking is consent.
   */
  async visit(id: string, user: AuthUser): Promise<SubmittedArchiveView> {
    const repository = await this.findVisible(id, user);
    const { items } = await this.repositories.listVisits(id, 1, 1);
    const last = items[0];
    if (last) {
      const waitMs = last.createdAt.getTime() + this.config.repositoryVisitCooldownMs - Date.now();
      if (waitMs > 0) throw new VisitCooldownError(Math.ceil(waitMs / 1000));
    }
    if (repository.state === 'disabled') {
      await this.repositories.updateSettings(id, { state: 'active', stateReason: null, consecutiveFailures: 0 });
    }
    return this.archives.submit(repository.url, user);
  }

  /**
   * Stops tracking. Purging (admins) removes each visit like DELETE /api/archives/:id does
   * (objects first, then the row), then the repository: a storage failure midway leaves the rest
   * in place for a retry rather than orphaning objects.
   */
  async untrack(id: string, options: { all: boolean; purge: boolean }, user: AuthUser): Promise<void> {
    const repository = await this.findVisible(id, user);
    if ((options.all || options.purge) && !user.isAdmin) {
      throw AuthError.forbidden(
        `Stopping everyone's tracking (all=true) or removing snapshots (purge=true) needs the role archiver-admin, which your account (${user.username}) lacks`,
      );
    }
    if (options.purge) return this.purge(repository);
    if (options.all) {
      await this.repositories.untrackAll(id);
    } else if (!(await this.repositories.untrack(id, user.subject))) {
      throw new ApiError(
        HttpStatus.CONFLICT,
        RepositoryErrorCode.NotTracked,
        `You do not track repository ${id}; use ?all=true to stop everyone tracking it, or ?purge=true to remove it`,
      );
    }
    await this.repositories.unscheduleIfUntracked(id);
  }

  /**
   * Queues the removal of an idle repository with everything it stored (RepositoryPurger on a
   * worker: a bucket of many snapshots takes longer than a request may). Queued first, so a
   * Redis outage changes nothing; then nobody tracks it and nothing schedules it. The repository
   * answers 404 once the job is done.
   */
  private async purge(repository: TrackedRepositoryRecord): Promise<void> {
    const visits = await this.repositories.allVisits(repository.id);
    const active = visits.find((visit) => (ACTIVE_STATUSES as readonly ArchiveStatus[]).includes(visit.status));
    if (active) {
      throw new ApiError(
        HttpStatus.CONFLICT,
        ApiErrorCode.ArchiveActive,
        `Repository ${repository.id} has a visit in progress (archive ${active.id} is ${active.status}); wait until it finishes, then purge again`,
      );
    }
    await this.queues.enqueue(QueueName.Purge, { repositoryId: repository.id });
    await this.repositories.untrackAll(repository.id);
    await this.repositories.unscheduleIfUntracked(repository.id);
    this.logger.log({ msg: 'purge queued', repositoryId: repository.id, visits: visits.length });
  }

  /**
   * A repository the caller does not track answers like a missing one (admins see all). With
   * `content` (its visits, snapshots, ref changes), a private repository's (one that has or
   * had a credential) is only for trackers who proved access with a credential of their own:
   * tracking its URL is not enough (README "Who sees a private repository's content").
   */
  async findVisible(id: string, user: AuthUser, options: { content?: boolean } = {}): Promise<TrackedRepositoryRecord> {
    const repository = await this.repositories.findById(id);
    if (!repository) throw repositoryNotFound(id);
    if (user.isAdmin) return repository;
    const access = await this.repositories.contentAccess(id, user.subject);
    if (!access?.tracked) throw repositoryNotFound(id);
    if (options.content && !mayReadContent(access)) throw contentHidden(id);
    return repository;
  }

  private async mustFind(id: string): Promise<TrackedRepositoryRecord> {
    const repository = await this.repositories.findById(id);
    if (!repository) throw repositoryNotFound(id);
    return repository;
  }

  private async summaryView(id: string): Promise<RepositoryView> {
    const summary = await this.repositories.findSummary(id);
    if (!summary) throw repositoryNotFound(id);
    const failed = await this.verifications.countFailedByRepository([id]);
    return toRepositoryView(summary, failed.get(id));
  }
}

function mayReadContent(access: ContentAccess): boolean {
  return access.tracked && (!access.private || access.granted);
}

function contentHidden(id: string): ApiError {
  return new ApiError(
    HttpStatus.FORBIDDEN,
    GitErrorCode.AUTH_REQUIRED,
    `Repository ${id} is private: its snapshots were made with a credential someone else gave. ` +
      `Set a working credential of your own with PATCH /api/repositories/${id}; once a visit with it succeeds, you see its content`,
  );
}

export class VisitCooldownError extends ApiError {
  constructor(readonly retryAfterSeconds: number) {
    super(
      HttpStatus.TOO_MANY_REQUESTS,
      RepositoryErrorCode.VisitCooldown,
      `This repository was visited less than the cooldown ago; ask again in ${retryAfterSeconds} s (or wait for its scheduled visit)`,
    );
  }
}

// Kept importable from here for the frontend's other callers.
export { hoursToSeconds, nextVisitAfter };

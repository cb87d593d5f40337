import type { Repository, RepositoryTracker } from './generated/prisma/client';
import type { ArchiveOutcome, ArchiveStatus } from './archive.types';

/**
 * A repository (one per normalized URL) as stored. "Tracked" avoids clashing with the repository
 * pattern's name. Without its credential's ciphertext: only RepositoryCredentialRepository reads that.
 */
export type TrackedRepositoryRecord = Omit<Repository, 'credential' | 'hookSecret'>;
export type RepositoryState = Repository['state'];
export const REPOSITORY_STATES = ['active', 'paused', 'disabled'] as const satisfies readonly RepositoryState[];

export type RepositoryTrackerRecord = RepositoryTracker;

/** The newest visit (archive) of a repository, whatever its status. */
export interface RepositoryVisitSummary {
  archiveId: string;
  status: ArchiveStatus;
  /** Null until the visit completes, and for failed visits. */
  outcome: ArchiveOutcome | null;
  createdAt: Date;
  finishedAt: Date | null;
}

/** A repository as listed: the record with its last visit and counts. */
export interface RepositorySummary extends TrackedRepositoryRecord {
  lastVisit: RepositoryVisitSummary | null;
  /** Completed visits. */
  snapshotCount: number;
  /** Bytes the completed visits stored. */
  storedBytes: bigint;
  trackerCount: number;
}

export interface RepositoryListQuery {
  /** Only repositories this user tracks; undefined lists all (admins). */
  subject?: string;
  state?: RepositoryState;
  /** A case-insensitive substring of the URL (as submitted or normalized). */
  q?: string;
  page: number;
  pageSize: number;
}

/** What PATCH /api/repositories/:id and on-demand visits may change; absent fields stay as they are. */
export interface RepositorySettingsChange {
  state?: RepositoryState;
  stateReason?: string | null;
  pinnedIntervalSeconds?: number | null;
  nextVisitAt?: Date | null;
  consecutiveFailures?: number;
}

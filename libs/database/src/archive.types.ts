import type { Archive } from './generated/prisma/client';

export type ArchiveRecord = Archive;
export type ArchiveStatus = Archive['status'];
export type ArchiveOutcome = NonNullable<Archive['outcome']>;
export const ARCHIVE_OUTCOMES = ['changed', 'unchanged'] as const satisfies readonly ArchiveOutcome[];
export const ARCHIVE_STATUSES = ['pending', 'queued', 'running', 'completed', 'failed'] as const satisfies readonly ArchiveStatus[];
export const ACTIVE_STATUSES = ['pending', 'queued', 'running'] as const satisfies readonly ArchiveStatus[];

export interface NewArchive {
  url: string;
  normalizedUrl: string;
  requestedBy: string;
  /** The requester's display name (the token's preferred_username), shown to admins; the API always sets it. */
  requestedByName?: string;
}

export interface ArchiveListQuery {
  /** Only this user's archives; undefined lists everyone's (admins). */
  requestedBy?: string;
  status?: ArchiveStatus;
  page: number;
  pageSize: number;
}

export interface SnapshotStats {
  commit: string | null;
  refCount: number;
  fileCount: number;
  byteCount: bigint;
}

export interface StageStats {
  meanMs: number | null;
  p95Ms: number | null;
}

export interface ArchiveStats {
  counts: Record<ArchiveStatus, number>;
  totals: { files: number; bytes: bigint };
  stages: { wait: StageStats; inject: StageStats; run: StageStats; total: StageStats };
  perHour: { hour: Date; count: number }[];
}

/** A non-terminal archive as the reconciler sees it. */
export interface UnsettledArchive {
  id: string;
  status: 'pending' | 'queued' | 'running';
  /** Runs started so far. */
  attempts: number;
  /** A run holds the archive right now (its lease has not expired). */
  leaseLive: boolean;
}

import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ARCHIVE_OUTCOMES, ARCHIVE_STATUSES, type ArchiveOutcome, type ArchiveRecord, type ArchiveStatus } from '@archiver/database';
import { consoleUrlFor } from '@archiver/storage';
import { ApiErrorDetailView } from '../api/api.error';

// The REST contract (issue 3): clients, the web UI and scripts rely on these names. The classes
// double as the OpenAPI schemas of /api/docs; `toArchiveView` is the only way a row becomes one.

const nullableDate = (description: string) =>
  ApiProperty({ type: String, format: 'date-time', nullable: true, description, example: '2025-01-02T03:04:05.678Z' });
const nullableMs = (description: string) => ApiProperty({ type: Number, nullable: true, description, example: 1234 });

export class ArchiveDurationsView {
  @nullableMs('injectedAt − createdAt: time waiting for the injector')
  waitMs!: number | null;

  @nullableMs('startedAt − injectedAt: time waiting for a worker')
  injectMs!: number | null;

  @nullableMs('finishedAt − startedAt: cloning and uploading')
  runMs!: number | null;

  @nullableMs('finishedAt − createdAt: submission to outcome')
  totalMs!: number | null;
}

export const VERIFICATION_STATUSES = ['unverified', 'passed', 'failed'] as const;
export type VerificationStatus = (typeof VERIFICATION_STATUSES)[number];

export class VerificationView {
  @ApiProperty({
    enum: VERIFICATION_STATUSES,
    description: 'The last restore drill: unverified (never ran), passed, or failed (see `error`)',
  })
  status!: VerificationStatus;

  @nullableDate('When the last restore drill ran, whatever its result')
  checkedAt!: string | null;

  @nullableDate('When a restore drill last passed; null once one fails')
  verifiedAt!: string | null;

  @ApiProperty({
    type: ApiErrorDetailView,
    nullable: true,
    description:
      'Why the last drill failed: MISSING_OBJECT, CORRUPT_BUNDLE, REFS_MISMATCH, FSCK_FAILED, FILE_CHECKSUM_MISMATCH, INVALID_MANIFEST',
  })
  error!: ApiErrorDetailView | null;
}

export class ArchiveView {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ description: 'What is cloned: the submitted URL, parsed and re-serialised', example: 'https://host/owner/repo.git' })
  url!: string;

  @ApiProperty({
    description: 'Identity of the repository (lowercase host, no .git, no trailing slash)',
    example: 'https://host/owner/repo',
  })
  normalizedUrl!: string;

  @ApiProperty({ enum: ARCHIVE_STATUSES, description: 'pending → queued → running → completed | failed' })
  status!: ArchiveStatus;

  @ApiProperty({ description: 'Keycloak subject (user id) of the submitter' })
  requestedBy!: string;

  @ApiProperty({
    type: String,
    nullable: true,
    description: "The submitter's user name (preferred_username) when they submitted; null for archives recorded before names were kept",
    example: 'demo',
  })
  requestedByName!: string | null;

  @ApiProperty({ type: String, format: 'date-time' })
  createdAt!: string;

  @nullableDate('When the injector admitted it (status queued)')
  injectedAt!: string | null;

  @nullableDate('When a worker started cloning (status running)')
  startedAt!: string | null;

  @nullableDate('When it completed or failed')
  finishedAt!: string | null;

  @ApiProperty({ type: ArchiveDurationsView, description: 'Null where a stage has not happened yet' })
  durations!: ArchiveDurationsView;

  @ApiProperty({ description: 'Clone attempts so far' })
  attempts!: number;

  @ApiProperty({
    type: ApiErrorDetailView,
    nullable: true,
    description: 'Why it failed, or why the last attempt failed while a retry waits',
  })
  error!: ApiErrorDetailView | null;

  @ApiProperty({ type: String, nullable: true, description: "The repository's MinIO bucket, once a worker chose it" })
  bucket!: string | null;

  @ApiProperty({ type: String, nullable: true, example: 'snapshots/20250102T030405Z-1a2b3c4d/' })
  prefix!: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'Commit of the default branch HEAD (null for an empty repository)' })
  commit!: string | null;

  @ApiProperty({ type: Number, nullable: true })
  refCount!: number | null;

  @ApiProperty({ type: Number, nullable: true })
  fileCount!: number | null;

  @ApiProperty({ type: Number, nullable: true, description: 'Bytes of the files of the HEAD tree' })
  byteCount!: number | null;

  @ApiProperty({
    type: String,
    nullable: true,
    description:
      'MinIO console link to the snapshot, only for archiver-admin (the console signs in with MinIO root credentials); null for everyone else and until the snapshot has a location',
  })
  consoleUrl!: string | null;

  @ApiProperty({ format: 'uuid', description: 'The repository this archive is a visit of (GET /api/repositories/:id)' })
  repositoryId!: string;

  @ApiProperty({
    enum: ARCHIVE_OUTCOMES,
    nullable: true,
    description: 'Once completed: changed (this snapshot stores content) or unchanged (refs as at the snapshot before; nothing cloned)',
  })
  outcome!: ArchiveOutcome | null;

  @ApiProperty({ type: VerificationView, description: 'The last restore drill of the snapshot (POST /api/archives/:id/verify)' })
  verification!: VerificationView;

  @ApiPropertyOptional({
    type: () => ArchiveLfsView,
    nullable: true,
    description:
      'Only in GET /api/archives/:id of a completed archive: the Git LFS objects its snapshot stored and those missing (null: the snapshot has no LFS pointers)',
  })
  lfs?: ArchiveLfsView | null;
}

export class ArchiveLfsMissingView {
  @ApiProperty({ description: 'Path of the pointer in the stored tree' })
  path!: string;

  @ApiPropertyOptional({ description: 'The exact path bytes when they are not valid UTF-8' })
  pathBase64?: string;

  @ApiPropertyOptional({ description: 'The ref whose tip holds the pointer, when not the stored tree (LFS_ALL_REFS)' })
  ref?: string;

  @ApiProperty({ description: 'sha256 oid the pointer names' })
  oid!: string;

  @ApiProperty({ description: '{code, message}: LFS_NOT_ON_SERVER, LFS_BLOCKED_BY_POLICY, LFS_DIGEST_MISMATCH, LFS_SIZE_MISMATCH, …' })
  reason!: { code: string; message: string };
}

export class ArchiveLfsView {
  @ApiProperty({ description: 'Distinct LFS objects stored for the snapshot' })
  objects!: number;

  @ApiProperty({ description: 'Their bytes' })
  bytes!: number;

  @ApiProperty({ type: [ArchiveLfsMissingView] })
  missing!: ArchiveLfsMissingView[];
}

export class VerifyRequestView {
  @ApiProperty({ description: 'A drill was queued now (false: one was already waiting or running)' })
  queued!: boolean;

  @ApiProperty({ type: VerificationView, description: 'The last drill so far; poll GET /api/archives/:id for the new result' })
  verification!: VerificationView;
}

export class SubmittedArchiveView extends ArchiveView {
  @ApiProperty({
    description: 'True when this user already had an active archive of the repository: it is returned (HTTP 200) instead of a new one',
  })
  existing!: boolean;
}

export class ArchivePageView {
  @ApiProperty({ type: [ArchiveView], description: 'Newest first' })
  items!: ArchiveView[];

  @ApiProperty({ description: 'Matching archives across all pages' })
  total!: number;

  @ApiProperty()
  page!: number;

  @ApiProperty()
  pageSize!: number;
}

export class BatchItemView {
  @ApiProperty({ description: 'The URL exactly as submitted' })
  url!: string;

  @ApiPropertyOptional({ type: ArchiveView, description: 'Present when the URL was accepted' })
  archive?: ArchiveView;

  @ApiPropertyOptional({ description: 'With `archive`: an active archive of the repository already existed' })
  existing?: boolean;

  @ApiPropertyOptional({ type: ApiErrorDetailView, description: 'Present when the URL was rejected; nothing was recorded for it' })
  error?: ApiErrorDetailView;
}

export class BatchResultView {
  @ApiProperty({ type: [BatchItemView], description: 'One item per submitted URL, in order' })
  items!: BatchItemView[];
}

export class BundleStatusView {
  @ApiProperty({
    enum: ['ready', 'pending', 'failed', 'absent'],
    description:
      'ready: `url` is one bundle of the whole snapshot; pending: a worker is building it; failed: see `message`; absent: not asked for yet',
  })
  status!: 'ready' | 'pending' | 'failed' | 'absent';

  @ApiPropertyOptional({ description: 'Presigned GET of the bundle (when ready)' })
  url?: string;

  @ApiPropertyOptional({ example: 300 })
  expiresInSeconds?: number;

  @ApiPropertyOptional({ example: 'git clone repo.bundle repo' })
  cloneCommand?: string;

  @ApiPropertyOptional()
  message?: string;
}

export class DownloadLinkView {
  @ApiProperty({ description: "Presigned GET of the snapshot's repo.bundle (a git bundle of every ref)" })
  url!: string;

  @ApiProperty({ example: 300 })
  expiresInSeconds!: number;

  @ApiProperty({ description: 'Restores the repository from the downloaded file', example: 'git clone repo.bundle repo' })
  cloneCommand!: string;
}

/** `consoleBaseUrl` null: the caller may not use the MinIO console, so the view carries no link to it. */
export function toArchiveView(record: ArchiveRecord, consoleBaseUrl: string | null): ArchiveView {
  return {
    id: record.id,
    url: record.url,
    normalizedUrl: record.normalizedUrl,
    status: record.status,
    requestedBy: record.requestedBy,
    requestedByName: record.requestedByName,
    createdAt: record.createdAt.toISOString(),
    injectedAt: iso(record.injectedAt),
    startedAt: iso(record.startedAt),
    finishedAt: iso(record.finishedAt),
    durations: {
      waitMs: between(record.createdAt, record.injectedAt),
      injectMs: between(record.injectedAt, record.startedAt),
      runMs: between(record.startedAt, record.finishedAt),
      totalMs: between(record.createdAt, record.finishedAt),
    },
    attempts: record.attempts,
    // A failed attempt's reason stays visible while its retry waits, so `error` is not only for `failed`.
    error: record.error === null ? null : { code: record.errorCode ?? 'UNKNOWN', message: record.error },
    bucket: record.bucket,
    prefix: record.prefix,
    commit: record.commit,
    refCount: record.refCount,
    fileCount: record.fileCount,
    // Safe as a JSON number up to 8 PiB; a snapshot is capped far below that (CLONE_MAX_BYTES).
    byteCount: record.byteCount === null ? null : Number(record.byteCount),
    consoleUrl:
      record.bucket === null || consoleBaseUrl === null ? null : consoleUrlFor(consoleBaseUrl, record.bucket, record.prefix ?? ''),
    repositoryId: record.repositoryId,
    outcome: record.outcome,
    verification: toVerificationView(record),
  };
}

export function toVerificationView(
  record: Pick<ArchiveRecord, 'verifiedAt' | 'verifyErrorCode' | 'verifyError' | 'verifyCheckedAt'>,
): VerificationView {
  const failed = record.verifyErrorCode !== null;
  return {
    status: record.verifyCheckedAt === null ? 'unverified' : failed ? 'failed' : 'passed',
    checkedAt: iso(record.verifyCheckedAt),
    verifiedAt: iso(record.verifiedAt),
    error: failed ? { code: record.verifyErrorCode!, message: record.verifyError ?? '' } : null,
  };
}

function iso(date: Date | null): string | null {
  return date === null ? null : date.toISOString();
}

function between(from: Date | null, to: Date | null): number | null {
  return from === null || to === null ? null : to.getTime() - from.getTime();
}

import { ApiProperty } from '@nestjs/swagger';
import {
  ARCHIVE_STATUSES,
  REPOSITORY_STATES,
  type ArchiveOutcome,
  type ArchiveStatus,
  type RepositoryState,
  type RepositorySummary,
} from '@archiver/database';
import { ArchiveView } from '../archives/archive.view';
import { RefChangeSummaryView } from './ref-changes.view';
import { RetentionView, toRetentionView } from './retention.view';

// The REST contract of tracked repositories; `toRepositoryView` is the only way a row becomes one.

const OUTCOMES = ['changed', 'unchanged'] as const satisfies readonly ArchiveOutcome[];
const nullableDate = (description: string) =>
  ApiProperty({ type: String, format: 'date-time', nullable: true, description, example: '2025-01-02T03:04:05.678Z' });

export class RepositoryLastVisitView {
  @ApiProperty({ format: 'uuid', description: 'The archive this visit produced' })
  archiveId!: string;

  @ApiProperty({ enum: ARCHIVE_STATUSES })
  status!: ArchiveStatus;

  @ApiProperty({ enum: OUTCOMES, nullable: true, description: 'Set once completed: whether the refs had changed since the visit before' })
  outcome!: ArchiveOutcome | null;

  @ApiProperty({ type: String, format: 'date-time' })
  createdAt!: string;

  @nullableDate('When it completed or failed')
  finishedAt!: string | null;
}

export class RepositoryCredentialView {
  @ApiProperty({ enum: ['token', 'basic', 'ssh'] })
  kind!: string;

  @ApiProperty({ enum: [true], description: 'Always true: the secret itself is never shown' })
  set!: true;

  @nullableDate('When a visit last handed it to git')
  lastUsedAt!: string | null;
}

export class RepositoryView {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ description: 'The URL as first submitted', example: 'https://host/owner/repo.git' })
  url!: string;

  @ApiProperty({ example: 'https://host/owner/repo' })
  normalizedUrl!: string;

  @ApiProperty({ enum: REPOSITORY_STATES, description: 'active: visited on schedule; paused: by a person; disabled: by the scheduler' })
  state!: RepositoryState;

  @ApiProperty({ type: String, nullable: true, description: 'Why it is paused or disabled' })
  stateReason!: string | null;

  @ApiProperty({ description: 'Hours between visits in effect (the pinned interval, else the adaptive one)', example: 24 })
  intervalHours!: number;

  @ApiProperty({ type: Number, nullable: true, description: 'The pinned interval, or null when it adapts' })
  pinnedIntervalHours!: number | null;

  @nullableDate('The next scheduled visit; null when not scheduled (nobody tracks it)')
  nextVisitAt!: string | null;

  @nullableDate('When it was last visited')
  lastVisitAt!: string | null;

  @nullableDate('When a visit last succeeded')
  lastSuccessAt!: string | null;

  @nullableDate('When a visit last found changed refs')
  lastChangeAt!: string | null;

  @ApiProperty({ description: 'Failed visits in a row' })
  consecutiveFailures!: number;

  @ApiProperty({ type: RepositoryLastVisitView, nullable: true, description: 'The newest visit, whatever its status' })
  lastVisit!: RepositoryLastVisitView | null;

  @ApiProperty({ description: 'Completed visits (stored snapshots)' })
  snapshotCount!: number;

  @ApiProperty({ description: 'Bytes the stored snapshots hold' })
  storedBytes!: number;

  @ApiProperty({ description: 'How many people track it' })
  trackerCount!: number;

  @ApiProperty({ description: 'Snapshots whose last restore drill failed (each visit says why in `verification`)' })
  failedVerifications!: number;

  @ApiProperty({
    type: RepositoryCredentialView,
    nullable: true,
    description: 'The credential for a private upstream, if set (never its secret)',
  })
  credential!: RepositoryCredentialView | null;

  @ApiProperty({ description: 'Whether it has a push-hook secret (POST /api/repositories/:id/hook-secret); never the secret' })
  hookSecretSet!: boolean;

  @ApiProperty({ type: String, format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ type: RetentionView, description: 'Which snapshots are kept (PUT /api/repositories/:id/retention) and the last prune' })
  retention!: RetentionView;
}

export class TrackedRepositoryView extends RepositoryView {
  @ApiProperty({ description: 'true: you already tracked it and nothing changed; false: you track it from now on' })
  existing!: boolean;
}

export class RepositoryPageView {
  @ApiProperty({ type: [RepositoryView] })
  items!: RepositoryView[];

  @ApiProperty()
  total!: number;

  @ApiProperty()
  page!: number;

  @ApiProperty()
  pageSize!: number;
}

export class VisitView extends ArchiveView {
  @ApiProperty({
    type: RefChangeSummaryView,
    nullable: true,
    description:
      'How many refs this visit found moved, by kind, since the snapshot before it (null until completed, and for visits older than change recording)',
  })
  changes!: RefChangeSummaryView | null;
}

export class VisitPageView {
  @ApiProperty({ type: [VisitView], description: 'Newest first' })
  items!: VisitView[];

  @ApiProperty()
  total!: number;

  @ApiProperty()
  page!: number;

  @ApiProperty()
  pageSize!: number;
}

export class RepositoryDetailView extends RepositoryView {
  @ApiProperty({ type: VisitPageView })
  visits!: VisitPageView;
}

export function toRepositoryView(summary: RepositorySummary, failedVerifications = 0): RepositoryView {
  const pinned = summary.pinnedIntervalSeconds;
  return {
    id: summary.id,
    url: summary.url,
    normalizedUrl: summary.normalizedUrl,
    state: summary.state,
    stateReason: summary.stateReason,
    intervalHours: (pinned ?? summary.intervalSeconds) / 3600,
    pinnedIntervalHours: pinned === null ? null : pinned / 3600,
    nextVisitAt: iso(summary.nextVisitAt),
    lastVisitAt: iso(summary.lastVisitAt),
    lastSuccessAt: iso(summary.lastSuccessAt),
    lastChangeAt: iso(summary.lastChangeAt),
    consecutiveFailures: summary.consecutiveFailures,
    lastVisit: summary.lastVisit && {
      archiveId: summary.lastVisit.archiveId,
      status: summary.lastVisit.status,
      outcome: summary.lastVisit.outcome,
      createdAt: summary.lastVisit.createdAt.toISOString(),
      finishedAt: iso(summary.lastVisit.finishedAt),
    },
    snapshotCount: summary.snapshotCount,
    storedBytes: Number(summary.storedBytes),
    trackerCount: summary.trackerCount,
    failedVerifications,
    credential:
      summary.credentialKind === null ? null : { kind: summary.credentialKind, set: true, lastUsedAt: iso(summary.credentialLastUsedAt) },
    hookSecretSet: summary.hookSecretUpdatedAt !== null,
    createdAt: summary.createdAt.toISOString(),
    retention: toRetentionView(summary),
  };
}

function iso(date: Date | null): string | null {
  return date === null ? null : date.toISOString();
}

export class PurgeAcceptedView {
  @ApiProperty({ format: 'uuid' })
  repositoryId!: string;

  @ApiProperty({ enum: ['purging'], description: 'A worker removes the repository and every snapshot; then GET answers 404' })
  status!: 'purging';
}

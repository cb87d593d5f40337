import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { REF_CHANGE_KINDS, type RefChange, type RefChangeKind, type RefChangeSummary } from '@archiver/git';
import { exactText } from '@archiver/storage';

// The REST contract of GET /api/repositories/:id/changes.

export class RefChangeView {
  @ApiProperty({ description: 'Full ref name (invalid UTF-8 bytes shown as U+FFFD; see refBase64)', example: 'refs/heads/main' })
  ref!: string;

  @ApiPropertyOptional({ description: 'The exact name bytes, present only when they are not valid UTF-8' })
  refBase64?: string;

  @ApiProperty({
    enum: REF_CHANGE_KINDS,
    description:
      'non_fast_forward: the new commit does not contain the old one (a force-push or history rewrite; the old commits stay restorable from the earlier snapshot); tag_moved: a tag points elsewhere',
  })
  kind!: RefChangeKind;

  @ApiProperty({ type: String, nullable: true, description: 'Null when created' })
  oldSha!: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'Null when deleted' })
  newSha!: string | null;
}

export class RefChangeSummaryView implements RefChangeSummary {
  @ApiProperty() created!: number;
  @ApiProperty() deleted!: number;
  @ApiProperty() fastForward!: number;
  @ApiProperty({ description: 'Force-pushed (history rewritten) refs' }) nonFastForward!: number;
  @ApiProperty() tagMoved!: number;
}

export class SnapshotPointView {
  @ApiProperty({ format: 'uuid', description: 'The completed visit (archive)' })
  id!: string;

  @ApiProperty({ type: String, format: 'date-time' })
  finishedAt!: string;
}

export class RefChangesView {
  @ApiProperty({ format: 'uuid' })
  repositoryId!: string;

  @ApiProperty({
    type: SnapshotPointView,
    nullable: true,
    description: 'Null: from nothing (to is the first snapshot), or no snapshots yet',
  })
  from!: SnapshotPointView | null;

  @ApiProperty({ type: SnapshotPointView, nullable: true, description: 'Null when the repository has no snapshot yet' })
  to!: SnapshotPointView | null;

  @ApiProperty({ type: RefChangeSummaryView })
  summary!: RefChangeSummaryView;

  @ApiProperty({ type: [RefChangeView], description: 'Sorted by the exact ref name bytes' })
  changes!: RefChangeView[];
}

export function toRefChangeView(change: RefChange): RefChangeView {
  const name = exactText(change.nameBytes);
  return {
    ref: name.text,
    ...(name.base64 !== undefined && { refBase64: name.base64 }),
    kind: change.kind,
    oldSha: change.oldSha,
    newSha: change.newSha,
  };
}

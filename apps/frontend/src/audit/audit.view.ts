import { ApiProperty } from '@nestjs/swagger';
import type { AuditRecord } from '@archiver/database';

export class AuditEventView {
  @ApiProperty({ format: 'uuid' })
  id!: string;
  @ApiProperty({ format: 'date-time' })
  at!: string;
  @ApiProperty({ description: 'Who: Keycloak subject and user name' })
  actor!: { subject: string; name: string | null };
  @ApiProperty({ example: 'repository.pause' })
  action!: string;
  @ApiProperty({ description: 'What it was done to', example: { type: 'repository', id: '3f1c…' } })
  target!: { type: string; id: string | null };
  @ApiProperty({ nullable: true, description: 'The request id (`x-request-id`), as in the logs' })
  requestId!: string | null;
  @ApiProperty({ nullable: true, type: Object, description: 'The request fields the action keeps (never a secret)' })
  details!: Record<string, unknown> | null;
}

export class AuditPageView {
  @ApiProperty({ type: [AuditEventView] })
  items!: AuditEventView[];
  @ApiProperty()
  total!: number;
  @ApiProperty()
  page!: number;
  @ApiProperty()
  pageSize!: number;
}

export function toAuditEventView(record: AuditRecord): AuditEventView {
  return {
    id: record.id,
    at: record.at.toISOString(),
    actor: { subject: record.actorSubject, name: record.actorName },
    action: record.action,
    target: { type: record.targetType, id: record.targetId },
    requestId: record.requestId,
    details: record.details,
  };
}

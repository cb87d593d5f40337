import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { WebhookDeliveryRecord, WebhookEndpointRecord } from '@archiver/database';
import { WEBHOOK_EVENTS } from '@archiver/webhooks';

export class WebhookView {
  @ApiProperty({ format: 'uuid' })
  id!: string;
  @ApiProperty()
  url!: string;
  @ApiProperty({ enum: WEBHOOK_EVENTS, isArray: true })
  events!: string[];
  @ApiProperty()
  active!: boolean;
  @ApiProperty({ description: 'Every repository’s events (admins’ endpoints), not only those the owner tracks' })
  allRepositories!: boolean;
  @ApiProperty({ description: 'Always true: a secret signs every delivery; it is shown only when created or rotated' })
  secretSet!: true;
  @ApiProperty({ type: Object, description: 'Who registered it' })
  owner!: { subject: string; name: string | null };
  @ApiProperty({ type: String, format: 'date-time' })
  createdAt!: string;
  @ApiProperty({ type: String, format: 'date-time' })
  updatedAt!: string;
}

/** The answer to a create or a rotation: the only time the secret is shown. */
export class WebhookWithSecretView extends WebhookView {
  @ApiPropertyOptional({ description: 'The signing secret: store it now, it is not shown again' })
  secret?: string;
}

export class WebhookPageView {
  @ApiProperty({ type: [WebhookView] })
  items!: WebhookView[];
  @ApiProperty()
  total!: number;
  @ApiProperty()
  page!: number;
  @ApiProperty()
  pageSize!: number;
}

export class WebhookDeliveryView {
  @ApiProperty({ format: 'uuid', description: 'Also sent as X-Archiver-Delivery' })
  id!: string;
  @ApiProperty()
  event!: string;
  @ApiProperty({ enum: ['pending', 'delivered', 'failed'], description: 'delivered only after a 2xx answer' })
  status!: string;
  @ApiProperty()
  attempts!: number;
  @ApiProperty({ type: Number, nullable: true, description: 'The HTTP status of the last attempt (null: no answer)' })
  lastStatusCode!: number | null;
  @ApiProperty({ type: String, nullable: true })
  lastError!: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'uuid' })
  repositoryId!: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'uuid' })
  archiveId!: string | null;
  @ApiProperty({ type: String, format: 'date-time' })
  createdAt!: string;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' })
  lastAttemptAt!: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' })
  finishedAt!: string | null;
}

export class WebhookDeliveryPageView {
  @ApiProperty({ type: [WebhookDeliveryView] })
  items!: WebhookDeliveryView[];
  @ApiProperty()
  total!: number;
  @ApiProperty()
  page!: number;
  @ApiProperty()
  pageSize!: number;
}

export function toWebhookView(record: WebhookEndpointRecord): WebhookView {
  return {
    id: record.id,
    url: record.url,
    events: record.events,
    active: record.active,
    allRepositories: record.allRepositories,
    secretSet: true,
    owner: { subject: record.ownerSubject, name: record.ownerName },
    createdAt: record.createdAt.toISOString(),
    updatedAt: record.updatedAt.toISOString(),
  };
}

export function toDeliveryView(record: WebhookDeliveryRecord): WebhookDeliveryView {
  return {
    id: record.id,
    event: record.event,
    status: record.status,
    attempts: record.attempts,
    lastStatusCode: record.lastStatusCode,
    lastError: record.lastError,
    repositoryId: record.repositoryId,
    archiveId: record.archiveId,
    createdAt: record.createdAt.toISOString(),
    lastAttemptAt: record.lastAttemptAt?.toISOString() ?? null,
    finishedAt: record.finishedAt?.toISOString() ?? null,
  };
}

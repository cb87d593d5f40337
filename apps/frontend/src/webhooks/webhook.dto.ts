import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { z } from 'zod';
import { WEBHOOK_EVENTS } from '@archiver/webhooks';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, positiveInt } from '../archives/archive.dto';
import { ApiError } from '../api/api.error';
import { shownId, UuidParamPipe } from '../api/uuid-param.pipe';

const url = z
  .string({ error: 'url must be a string' })
  .min(1, { error: 'url must not be empty' })
  .max(2048, { error: 'url must be at most 2048 characters' });
const events = z
  .array(z.enum(WEBHOOK_EVENTS, { error: `each event must be one of ${WEBHOOK_EVENTS.join(', ')}` }), { error: 'events must be a list' })
  .min(1, { error: `events must name at least one of ${WEBHOOK_EVENTS.join(', ')}` })
  .max(WEBHOOK_EVENTS.length)
  .refine((list) => new Set(list).size === list.length, { error: 'events must not repeat an event' });
const secret = z
  .string({ error: 'secret must be a string' })
  .min(16, { error: 'secret must be at least 16 characters (or leave it out and one is generated)' })
  .max(256, { error: 'secret must be at most 256 characters' })
  .regex(/^[\x21-\x7e]+$/, { error: 'secret must be printable ASCII without spaces' });

export const createWebhookSchema = z.strictObject(
  {
    url,
    secret: secret.optional(),
    events,
    allRepositories: z.boolean({ error: 'allRepositories must be true or false' }).optional(),
  },
  {
    error:
      'The body must be a JSON object like {"url": "https://host/hook", "events": ["visit.failed"]}, sent with Content-Type: application/json',
  },
);
export type CreateWebhookBody = z.infer<typeof createWebhookSchema>;

export const updateWebhookSchema = z
  .strictObject(
    {
      url: url.optional(),
      events: events.optional(),
      active: z.boolean({ error: 'active must be true or false' }).optional(),
      allRepositories: z.boolean({ error: 'allRepositories must be true or false' }).optional(),
      rotateSecret: z.literal(true, { error: 'rotateSecret can only be true' }).optional(),
      secret: secret.optional(),
    },
    { error: 'The body must be a JSON object like {"active": false}, sent with Content-Type: application/json' },
  )
  .refine((body) => Object.keys(body).length > 0, {
    error: 'Nothing to change: give url, events, active, allRepositories, rotateSecret or secret',
  })
  .refine((body) => !(body.rotateSecret && body.secret !== undefined), { error: 'Give either rotateSecret or secret, not both' });
export type UpdateWebhookBody = z.infer<typeof updateWebhookSchema>;

export const listWebhooksQuerySchema = z.strictObject({
  scope: z.enum(['mine', 'all'], { error: 'scope must be mine or all' }).default('mine'),
  page: positiveInt('page').default(1),
  pageSize: positiveInt('pageSize', MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE),
});
export type ListWebhooksQuery = z.infer<typeof listWebhooksQuerySchema>;

export const pageQuerySchema = z.strictObject({
  page: positiveInt('page').default(1),
  pageSize: positiveInt('pageSize', MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE),
});
export type PageQuery = z.infer<typeof pageQuerySchema>;

export class CreateWebhookDoc {
  @ApiProperty({ description: 'Where deliveries are POSTed; the same address policy as clones applies' })
  url!: string;
  @ApiPropertyOptional({ description: 'The signing secret (16-256 printable characters); generated and returned once when left out' })
  secret?: string;
  @ApiProperty({ enum: WEBHOOK_EVENTS, isArray: true })
  events!: string[];
  @ApiPropertyOptional({ description: 'archiver-admin only: every repository’s events, not only those you track' })
  allRepositories?: boolean;
}

export class ListWebhooksQueryDoc {
  @ApiPropertyOptional({ enum: ['mine', 'all'], default: 'mine', description: 'all: everyone’s endpoints (archiver-admin only)' })
  scope?: 'mine' | 'all';
  @ApiPropertyOptional({ minimum: 1, default: 1 })
  page?: number;
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE })
  pageSize?: number;
}

export class UpdateWebhookDoc {
  @ApiPropertyOptional()
  url?: string;
  @ApiPropertyOptional({ enum: WEBHOOK_EVENTS, isArray: true })
  events?: string[];
  @ApiPropertyOptional()
  active?: boolean;
  @ApiPropertyOptional()
  allRepositories?: boolean;
  @ApiPropertyOptional({ description: 'true: generate a new secret, returned once in this answer' })
  rotateSecret?: boolean;
  @ApiPropertyOptional({ description: 'Set this secret instead' })
  secret?: string;
}

export class WebhookIdPipe extends UuidParamPipe {
  protected notFound(id: string): ApiError {
    return webhookNotFound(id);
  }
}

export function webhookNotFound(id: string): ApiError {
  return ApiError.notFound(`No webhook ${shownId(id)} of yours: check the id (GET /api/webhooks lists yours)`);
}

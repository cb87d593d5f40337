import { ApiPropertyOptional } from '@nestjs/swagger';
import { z } from 'zod';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, positiveInt } from '../archives/archive.dto';

const text = (name: string, max: number) =>
  z
    .string({ error: `${name} must be given once` })
    .min(1, { error: `${name} must not be empty` })
    .max(max, { error: `${name} must be at most ${max} characters` });
const instant = (name: string) =>
  z
    .string({ error: `${name} must be given once` })
    .datetime({ offset: true, error: `${name} must be an ISO 8601 date-time, e.g. 2026-11-30T00:00:00Z` })
    .transform((value) => new Date(value));

export const listAuditQuerySchema = z
  .object({
    actor: text('actor', 200).optional(),
    action: text('action', 100)
      .regex(/^[a-z_]+(\.[a-z_]+)*(\.\*)?$/, {
        error: 'action must look like repository.track, or repository.* for every repository action',
      })
      .optional(),
    targetId: text('targetId', 200).optional(),
    from: instant('from').optional(),
    to: instant('to').optional(),
    page: positiveInt('page').default(1),
    pageSize: positiveInt('pageSize', MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE),
  })
  .refine((query) => !query.from || !query.to || query.from < query.to, { error: 'from must be before to' });

export type ListAuditQuery = z.infer<typeof listAuditQuerySchema>;

export class ListAuditQueryDoc {
  @ApiPropertyOptional({ description: 'A user id (Keycloak subject) or user name' })
  actor?: string;
  @ApiPropertyOptional({ description: 'An action, e.g. repository.purge, or a family: repository.*' })
  action?: string;
  @ApiPropertyOptional({ description: 'The id of a repository, archive, webhook or import' })
  targetId?: string;
  @ApiPropertyOptional({ format: 'date-time', description: 'From this instant (inclusive)' })
  from?: string;
  @ApiPropertyOptional({ format: 'date-time', description: 'Before this instant' })
  to?: string;
  @ApiPropertyOptional({ minimum: 1, default: 1 })
  page?: number;
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE })
  pageSize?: number;
}

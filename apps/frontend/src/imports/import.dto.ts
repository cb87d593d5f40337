import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { z } from 'zod';
import { assertValidGlob, FORGES, ImportError, type ImportRequest } from '@archiver/imports';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../archives/archive.dto';
import { MAX_INTERVAL_HOURS, MIN_INTERVAL_HOURS } from '../repositories/repository.dto';

// What makes a base URL acceptable stays the URL policy (ImportsService); here only the shape.

const oneLine = (name: string, max: number) =>
  z
    .string({ error: `${name} must be a string` })
    .min(1, { error: `${name} must not be empty` })
    .max(max, { error: `${name} must be at most ${max} characters` })
    .regex(/^[^\0\r\n]*$/, { error: `${name} must be one line` });

const glob = (name: string) =>
  oneLine(name, 256).superRefine((value, context) => {
    try {
      assertValidGlob(name, value);
    } catch (error) {
      if (!(error instanceof ImportError)) throw error;
      context.addIssue({ code: 'custom', message: error.message });
    }
  });

export const createImportSchema = z
  .object(
    {
      forge: z.enum(FORGES, { error: `forge must be one of ${FORGES.join(', ')}` }),
      baseUrl: oneLine('baseUrl', 2048),
      // A user, an organization, or a GitLab group path (group/subgroup).
      // No `.` or `..` segment: the owner goes into API paths.
      owner: oneLine('owner', 256).regex(/^(?!\.{1,2}(\/|$))[A-Za-z0-9_.-]+(\/(?!\.{1,2}(\/|$))[A-Za-z0-9_.-]+)*$/, {
        error: 'owner must be a user, organization or group path like "my-org" or "group/subgroup"',
      }),
      token: oneLine('token', 4096).optional(),
      include: glob('include').optional(),
      exclude: glob('exclude').optional(),
      includeForks: z.boolean({ error: 'includeForks must be true or false' }).default(false),
      includeArchived: z.boolean({ error: 'includeArchived must be true or false' }).default(false),
      intervalHours: z
        .number({ error: 'intervalHours must be a number of hours, e.g. 24' })
        .min(MIN_INTERVAL_HOURS, { error: `intervalHours must be at least ${MIN_INTERVAL_HOURS}` })
        .max(MAX_INTERVAL_HOURS, { error: `intervalHours must be at most ${MAX_INTERVAL_HOURS} (a year)` })
        .optional(),
    },
    {
      error:
        'The body must be a JSON object like {"forge": "gitea", "baseUrl": "https://git.example.org", "owner": "my-org"}, sent with Content-Type: application/json',
    },
  )
  .strict();

export type CreateImportBody = z.output<typeof createImportSchema> & ImportRequest;

/** The body's shape in the OpenAPI document (createImportSchema validates). */
export class CreateImportDoc {
  @ApiProperty({ enum: FORGES })
  forge!: string;
  @ApiProperty({ description: 'The forge’s web address; the same address policy as clones applies', example: 'https://git.example.org' })
  baseUrl!: string;
  @ApiProperty({ description: 'A user, an organization, or a GitLab group path', example: 'my-org' })
  owner!: string;
  @ApiPropertyOptional({ description: 'An API token for private repositories; stored encrypted, never shown again' })
  token?: string;
  @ApiPropertyOptional({ description: 'Only repositories whose name matches this glob', example: 'service-*' })
  include?: string;
  @ApiPropertyOptional({ description: 'Leave out repositories whose name matches this glob' })
  exclude?: string;
  @ApiPropertyOptional({ default: false })
  includeForks?: boolean;
  @ApiPropertyOptional({ default: false })
  includeArchived?: boolean;
  @ApiPropertyOptional({ minimum: MIN_INTERVAL_HOURS, maximum: MAX_INTERVAL_HOURS, description: 'Pins the time between visits of each' })
  intervalHours?: number;
}

const positiveInt = (name: string, max?: number) => {
  const int = z.coerce.number({ error: `${name} must be a whole number` }).int({ error: `${name} must be a whole number` });
  const bounded = int.min(1, { error: `${name} must be at least 1` });
  return max === undefined ? bounded : bounded.max(max, { error: `${name} must be at most ${max}` });
};

export const listImportsQuerySchema = z.object({
  page: positiveInt('page').default(1),
  pageSize: positiveInt('pageSize', MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE),
});
export type ListImportsQuery = z.output<typeof listImportsQuerySchema>;

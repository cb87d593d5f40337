import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { z } from 'zod';
import { ARCHIVE_STATUSES, type ArchiveStatus } from '@archiver/database';
import { type CredentialInput, CredentialInputBody, credentialInputSchema } from '../repositories/credential-input.dto';

// Request shapes. The zod schemas validate; the classes carry the same shapes into the OpenAPI
// document (no class-validator here). Only the shape is checked here: what makes a URL
// acceptable is the git lib's UrlPolicy, so its codes (INVALID_URL, BLOCKED_BY_POLICY) reach
// the client unchanged.

export const MAX_BATCH_URLS = 100;
export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

const EXAMPLE = '{"url": "https://host/owner/repo.git"}';

export const submitArchiveSchema = z
  .object(
    {
      url: z.string({ error: 'must be a string holding the repository URL, e.g. "https://host/owner/repo.git"' }),
      credential: credentialInputSchema.optional(),
    },
    { error: `The body must be a JSON object like ${EXAMPLE}, sent with Content-Type: application/json` },
  )
  .strict();

export const submitBatchSchema = z
  .object(
    {
      urls: z
        .array(z.string({ error: 'must be a string holding a repository URL' }), {
          error: 'must be an array of repository URLs, e.g. ["https://host/a/b.git"]',
        })
        .min(1, { error: 'must hold at least one URL' })
        .max(MAX_BATCH_URLS, { error: `must hold at most ${MAX_BATCH_URLS} URLs; split them over several requests` }),
    },
    { error: 'The body must be a JSON object like {"urls": ["https://host/owner/repo.git"]}, sent with Content-Type: application/json' },
  )
  .strict();

// Query values arrive as strings; a repeated parameter arrives as an array and is refused.
export const positiveInt = (name: string, max?: number) => {
  const int = z.coerce.number({ error: `${name} must be a whole number` }).int({ error: `${name} must be a whole number` });
  const bounded = int.min(1, { error: `${name} must be at least 1` });
  return max === undefined ? bounded : bounded.max(max, { error: `${name} must be at most ${max}` });
};

/** `mine`: the caller's own archives (everyone's default); `all`: everyone's, for archiver-admin only. */
export const ARCHIVE_SCOPES = ['mine', 'all'] as const;
export type ArchiveScope = (typeof ARCHIVE_SCOPES)[number];

export const listArchivesQuerySchema = z.object({
  scope: z.enum(ARCHIVE_SCOPES, { error: `scope must be one of ${ARCHIVE_SCOPES.join(', ')}` }).default('mine'),
  status: z.enum(ARCHIVE_STATUSES, { error: `status must be one of ${ARCHIVE_STATUSES.join(', ')}` }).optional(),
  page: positiveInt('page').default(1),
  pageSize: positiveInt('pageSize', MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE),
});

export class SubmitArchiveBody implements z.infer<typeof submitArchiveSchema> {
  @ApiProperty({
    description: 'http(s) or SSH URL of a git repository (a private one, and any SSH one, needs `credential`)',
    example: 'https://host/owner/repo.git',
  })
  url!: string;

  @ApiPropertyOptional({
    type: CredentialInputBody,
    description:
      'For a private repository: used for this archive’s clone only (not for the repository’s scheduled visits), stored encrypted until it finishes, never shown again',
  })
  credential?: CredentialInput;
}

export class SubmitBatchBody implements z.infer<typeof submitBatchSchema> {
  @ApiProperty({ type: [String], minItems: 1, maxItems: MAX_BATCH_URLS, example: ['https://host/a/one.git', 'https://host/a/two.git'] })
  urls!: string[];
}

export class ListArchivesQuery implements z.infer<typeof listArchivesQuerySchema> {
  @ApiPropertyOptional({
    enum: ARCHIVE_SCOPES,
    default: 'mine',
    description: "mine: your own archives (also for admins); all: everyone's, archiver-admin only (403 otherwise)",
  })
  scope!: ArchiveScope;

  @ApiPropertyOptional({ enum: ARCHIVE_STATUSES })
  status?: ArchiveStatus;

  @ApiPropertyOptional({ minimum: 1, default: 1 })
  page!: number;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE })
  pageSize!: number;
}

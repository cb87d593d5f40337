import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { z } from 'zod';
import { REPOSITORY_STATES, type RepositoryState } from '@archiver/database';
import { UUID } from '../api/uuid-param.pipe';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../archives/archive.dto';
import { type CredentialInput, CredentialInputBody, credentialInputSchema } from './credential-input.dto';

// Moved to their own file so that POST /api/archives takes the same credentials without an import cycle.
export { type CredentialInput, CredentialInputBody, credentialInputSchema };

// Request shapes, validated by zod; the classes carry them into the OpenAPI document. What
// makes a URL acceptable stays the git lib's UrlPolicy, as for archives.

/** Bounds of a pinned interval: more often than hourly would hammer hosts, a year is "practically never". */
export const MIN_INTERVAL_HOURS = 1;
export const MAX_INTERVAL_HOURS = 24 * 365;

const intervalHours = z
  .number({ error: 'intervalHours must be a number of hours, e.g. 24' })
  .min(MIN_INTERVAL_HOURS, { error: `intervalHours must be at least ${MIN_INTERVAL_HOURS}` })
  .max(MAX_INTERVAL_HOURS, { error: `intervalHours must be at most ${MAX_INTERVAL_HOURS} (a year)` });

export const trackRepositorySchema = z
  .object(
    {
      url: z.string({ error: 'must be a string holding the repository URL, e.g. "https://host/owner/repo.git"' }),
      intervalHours: intervalHours.optional(),
      credential: credentialInputSchema.optional(),
    },
    {
      error:
        'The body must be a JSON object like {"url": "https://host/owner/repo.git", "intervalHours": 24}, sent with Content-Type: application/json',
    },
  )
  .strict();

/** A person may pause or resume; `disabled` is the scheduler's verdict, lifted by setting `active`. */
export const SETTABLE_STATES = ['active', 'paused'] as const satisfies readonly RepositoryState[];

export const updateRepositorySchema = z
  .object(
    {
      state: z.enum(SETTABLE_STATES, { error: `state must be one of ${SETTABLE_STATES.join(', ')}` }).optional(),
      intervalHours: intervalHours.nullable().optional(),
      credential: credentialInputSchema.nullable().optional(),
    },
    {
      error: 'The body must be a JSON object like {"state": "paused"} or {"intervalHours": null}, sent with Content-Type: application/json',
    },
  )
  .strict()
  .refine((body) => body.state !== undefined || body.intervalHours !== undefined || body.credential !== undefined, {
    error: 'Give state, intervalHours and/or credential; an empty change does nothing',
  });

const positiveInt = (name: string, max?: number) => {
  const int = z.coerce.number({ error: `${name} must be a whole number` }).int({ error: `${name} must be a whole number` });
  const bounded = int.min(1, { error: `${name} must be at least 1` });
  return max === undefined ? bounded : bounded.max(max, { error: `${name} must be at most ${max}` });
};

export const listRepositoriesQuerySchema = z.object({
  state: z.enum(REPOSITORY_STATES, { error: `state must be one of ${REPOSITORY_STATES.join(', ')}` }).optional(),
  q: z.string({ error: 'q must be given once' }).max(200, { error: 'q must be at most 200 characters' }).optional(),
  page: positiveInt('page').default(1),
  pageSize: positiveInt('pageSize', MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE),
});

export const getRepositoryQuerySchema = z.object({
  visitsPage: positiveInt('visitsPage').default(1),
  visitsPageSize: positiveInt('visitsPageSize', MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE),
});

const snapshotId = (name: string) =>
  z
    .string({ error: `${name} must be given once` })
    .regex(UUID, { error: `${name} must be the id (a UUID) of a completed visit, as listed by GET /api/repositories/:id` })
    .transform((id) => id.toLowerCase())
    .optional();

export const refChangesQuerySchema = z.object({ from: snapshotId('from'), to: snapshotId('to') });

// Query flags: only the literal words, so a typo is an error rather than a silent "false".
const flag = (name: string) =>
  z
    .enum(['true', 'false'], { error: `${name} must be true or false` })
    .default('false')
    .transform((value) => value === 'true');

export const deleteRepositoryQuerySchema = z.object({ all: flag('all'), purge: flag('purge') });

export class TrackRepositoryBody implements z.infer<typeof trackRepositorySchema> {
  @ApiProperty({
    description:
      'http(s) or SSH (ssh://user@host[:port]/path, user@host:path) URL of a git repository (private and SSH ones need a credential)',
    example: 'https://host/owner/repo.git',
  })
  url!: string;

  @ApiPropertyOptional({
    minimum: MIN_INTERVAL_HOURS,
    maximum: MAX_INTERVAL_HOURS,
    description: 'Pins the time between visits; without it the interval adapts to how often the repository changes',
  })
  intervalHours?: number;

  @ApiPropertyOptional({
    type: CredentialInputBody,
    description: 'For a private repository: an HTTPS token or username + password, stored encrypted and never shown again',
  })
  credential?: CredentialInput;
}

export class UpdateRepositoryBody implements z.infer<typeof updateRepositorySchema> {
  @ApiPropertyOptional({
    enum: SETTABLE_STATES,
    description: 'paused: no scheduled visits; active: resume (also re-enables a disabled one)',
  })
  state?: (typeof SETTABLE_STATES)[number];

  @ApiPropertyOptional({
    type: Number,
    nullable: true,
    minimum: MIN_INTERVAL_HOURS,
    maximum: MAX_INTERVAL_HOURS,
    description: 'Pins the interval; null unpins it (adaptive again)',
  })
  intervalHours?: number | null;

  @ApiPropertyOptional({
    type: CredentialInputBody,
    nullable: true,
    description: 'Sets or rotates the credential (trackers and admins; used from the next visit on); null removes it',
  })
  credential?: CredentialInput | null;
}

export class ListRepositoriesQuery implements z.infer<typeof listRepositoriesQuerySchema> {
  @ApiPropertyOptional({ enum: REPOSITORY_STATES })
  state?: RepositoryState;

  @ApiPropertyOptional({ description: 'Case-insensitive substring of the URL' })
  q?: string;

  @ApiPropertyOptional({ minimum: 1, default: 1 })
  page!: number;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE })
  pageSize!: number;
}

export class GetRepositoryQuery implements z.infer<typeof getRepositoryQuerySchema> {
  @ApiPropertyOptional({ minimum: 1, default: 1 })
  visitsPage!: number;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE })
  visitsPageSize!: number;
}

export class DeleteRepositoryQuery implements z.infer<typeof deleteRepositoryQuerySchema> {
  @ApiPropertyOptional({
    type: String,
    enum: ['true', 'false'],
    default: 'false',
    description: 'archiver-admin: stop tracking for everyone',
  })
  all!: boolean;

  @ApiPropertyOptional({
    type: String,
    enum: ['true', 'false'],
    default: 'false',
    description: 'archiver-admin: also remove every stored snapshot, the visits and the repository (implies all)',
  })
  purge!: boolean;
}

export class RefChangesQuery implements z.infer<typeof refChangesQuerySchema> {
  @ApiPropertyOptional({ format: 'uuid', description: 'The older snapshot (a completed visit); default: the one before `to`' })
  from?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'The newer snapshot; default: the newest that changed something' })
  to?: string;
}

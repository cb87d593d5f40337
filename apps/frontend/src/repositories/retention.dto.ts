import { ApiPropertyOptional } from '@nestjs/swagger';
import { z } from 'zod';

/** Upper bounds: ten years of dailies, weeks or months; beyond that "keep everything" says it. */
export const RETENTION_BOUNDS = { keepLast: 10_000, keepDaily: 3660, keepWeekly: 520, keepMonthly: 120 } as const;

type RetentionField = keyof typeof RETENTION_BOUNDS;

const count = (name: RetentionField) =>
  z
    .number({ error: `${name} must be a whole number from 0 to ${RETENTION_BOUNDS[name]}, or null` })
    .int({ error: `${name} must be a whole number` })
    .min(0, { error: `${name} must be at least 0` })
    .max(RETENTION_BOUNDS[name], { error: `${name} must be at most ${RETENTION_BOUNDS[name]}` })
    .nullable()
    .optional()
    .transform((n) => n ?? 0);

/**
 * PUT /api/repositories/:id/retention. Absent or null counts are 0; every count 0 (or `{}`)
 * clears the policy: keep everything, the safe side of a mistake.
 */
export const retentionPolicySchema = z
  .object(
    { keepLast: count('keepLast'), keepDaily: count('keepDaily'), keepWeekly: count('keepWeekly'), keepMonthly: count('keepMonthly') },
    {
      error:
        'The body must be a JSON object like {"keepLast": 7, "keepDaily": 14, "keepWeekly": 8, "keepMonthly": 12} (all 0 or null: keep everything), sent with Content-Type: application/json',
    },
  )
  .strict();

export class RetentionPolicyBody {
  @ApiPropertyOptional({
    type: Number,
    nullable: true,
    minimum: 0,
    maximum: RETENTION_BOUNDS.keepLast,
    description: 'Keep the newest N snapshots',
  })
  keepLast!: number;

  @ApiPropertyOptional({
    type: Number,
    nullable: true,
    minimum: 0,
    maximum: RETENTION_BOUNDS.keepDaily,
    description: 'Keep the newest snapshot of each of the last N days that have one (UTC)',
  })
  keepDaily!: number;

  @ApiPropertyOptional({
    type: Number,
    nullable: true,
    minimum: 0,
    maximum: RETENTION_BOUNDS.keepWeekly,
    description: 'Keep the newest snapshot of each of the last N ISO weeks that have one',
  })
  keepWeekly!: number;

  @ApiPropertyOptional({
    type: Number,
    nullable: true,
    minimum: 0,
    maximum: RETENTION_BOUNDS.keepMonthly,
    description: 'Keep the newest snapshot of each of the last N months that have one (UTC)',
  })
  keepMonthly!: number;
}

const queryCount = (name: RetentionField) =>
  z.coerce
    .number({ error: `${name} must be a whole number from 0 to ${RETENTION_BOUNDS[name]}` })
    .int({ error: `${name} must be a whole number` })
    .min(0, { error: `${name} must be at least 0` })
    .max(RETENTION_BOUNDS[name], { error: `${name} must be at most ${RETENTION_BOUNDS[name]}` })
    .optional();

/** GET .../retention/preview: with any count given, the dry run of that policy instead of the stored one. */
export const retentionPreviewQuerySchema = z
  .object({
    keepLast: queryCount('keepLast'),
    keepDaily: queryCount('keepDaily'),
    keepWeekly: queryCount('keepWeekly'),
    keepMonthly: queryCount('keepMonthly'),
  })
  .strict();

export class RetentionPreviewQuery implements z.infer<typeof retentionPreviewQuerySchema> {
  @ApiPropertyOptional({ minimum: 0, maximum: RETENTION_BOUNDS.keepLast, description: 'Preview this policy instead of the stored one' })
  keepLast?: number;

  @ApiPropertyOptional({ minimum: 0, maximum: RETENTION_BOUNDS.keepDaily })
  keepDaily?: number;

  @ApiPropertyOptional({ minimum: 0, maximum: RETENTION_BOUNDS.keepWeekly })
  keepWeekly?: number;

  @ApiPropertyOptional({ minimum: 0, maximum: RETENTION_BOUNDS.keepMonthly })
  keepMonthly?: number;
}

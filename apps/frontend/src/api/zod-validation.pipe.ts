import { PipeTransform } from '@nestjs/common';
import type { z } from 'zod';
import { ApiError } from './api.error';

/**
 * Validates (and coerces: defaults, numbers from query strings) a request part with a zod
 * schema. A failure is a 400 INVALID_REQUEST naming each offending field, raised before the
 * handler runs, so nothing is recorded or queued for a bad request.
 */
export class ZodValidationPipe<S extends z.ZodType> implements PipeTransform<unknown, z.output<S>> {
  constructor(private readonly schema: S) {}

  transform(value: unknown): z.output<S> {
    const result = this.schema.safeParse(value);
    if (result.success) return result.data;
    throw ApiError.invalidRequest(describeIssues(result.error.issues));
  }
}

export function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  const sentences = issues.slice(0, 5).map((issue) => {
    if (issue.code === 'unrecognized_keys') return `Unknown field ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}: remove it`;
    const where = issue.path.length > 0 ? `${issue.path.map(String).join('.')}: ` : '';
    return `${where}${issue.message}`;
  });
  return sentences.join('; ');
}

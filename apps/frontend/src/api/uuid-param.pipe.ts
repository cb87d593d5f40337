import { PipeTransform } from '@nestjs/common';
import type { ApiError } from './api.error';

// Any version: Postgres accepts every hex UUID, and ids are only ever compared, never parsed.
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * An id that is not a UUID names nothing: 404 like any unknown id (not 400, which would tell
 * a prober more than "no such thing"), and the database never sees the malformed value.
 */
export abstract class UuidParamPipe implements PipeTransform<string, string> {
  protected abstract notFound(id: string): ApiError;

  transform(value: string): string {
    if (!UUID.test(value)) throw this.notFound(value);
    return value.toLowerCase();
  }
}

/** An id as it may be shown back in a message: cut short. */
export function shownId(id: string): string {
  return JSON.stringify(id.length > 40 ? `${id.slice(0, 40)}…` : id);
}

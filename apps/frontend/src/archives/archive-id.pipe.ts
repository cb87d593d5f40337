import { PipeTransform } from '@nestjs/common';
import { ApiError } from '../api/api.error';

// Any version: Postgres accepts every hex UUID, and ids are only ever compared, never parsed.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * An id that is not a UUID names no archive: 404 like any unknown id (not 400, which would
 * tell a prober more than "no such archive"), and the database never sees the malformed value.
 */
export class ArchiveIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!UUID.test(value)) throw archiveNotFound(value);
    return value.toLowerCase();
  }
}

export function archiveNotFound(id: string): ApiError {
  const shown = id.length > 40 ? `${id.slice(0, 40)}…` : id;
  return ApiError.notFound(`No archive ${JSON.stringify(shown)} is visible to you: check the id (GET /api/archives lists yours)`);
}

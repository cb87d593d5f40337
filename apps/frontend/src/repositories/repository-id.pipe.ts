import { PipeTransform } from '@nestjs/common';
import { ApiError } from '../api/api.error';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A non-UUID names no repository: 404 like any unknown id, and the database never sees it. */
export class RepositoryIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!UUID.test(value)) throw repositoryNotFound(value);
    return value.toLowerCase();
  }
}

export function repositoryNotFound(id: string): ApiError {
  const shown = id.length > 40 ? `${id.slice(0, 40)}…` : id;
  return ApiError.notFound(`No repository ${JSON.stringify(shown)} is tracked by you: check the id (GET /api/repositories lists yours)`);
}

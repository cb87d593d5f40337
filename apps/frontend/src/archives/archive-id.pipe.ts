import { ApiError } from '../api/api.error';
import { shownId, UuidParamPipe } from '../api/uuid-param.pipe';

export class ArchiveIdPipe extends UuidParamPipe {
  protected notFound(id: string): ApiError {
    return archiveNotFound(id);
  }
}

export function archiveNotFound(id: string): ApiError {
  return ApiError.notFound(`No archive ${shownId(id)} is visible to you: check the id (GET /api/archives lists yours)`);
}

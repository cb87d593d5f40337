import { ApiError } from '../api/api.error';
import { shownId, UuidParamPipe } from '../api/uuid-param.pipe';

export class RepositoryIdPipe extends UuidParamPipe {
  protected notFound(id: string): ApiError {
    return repositoryNotFound(id);
  }
}

export function repositoryNotFound(id: string): ApiError {
  return ApiError.notFound(`No repository ${shownId(id)} is tracked by you: check the id (GET /api/repositories lists yours)`);
}

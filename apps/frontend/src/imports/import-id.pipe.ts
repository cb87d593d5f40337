import type { ApiError } from '../api/api.error';
import { UuidParamPipe } from '../api/uuid-param.pipe';
import { importNotFound } from './imports.service';

export class ImportIdPipe extends UuidParamPipe {
  protected notFound(id: string): ApiError {
    return importNotFound(id);
  }
}

import { HttpException, HttpStatus } from '@nestjs/common';
import { DatabaseError, DatabaseErrorCode } from '@archiver/database';
import { GitError, GitErrorCode } from '@archiver/git';
import { QueueError } from '@archiver/queue';
import { StorageError, StorageErrorCode } from '@archiver/storage';
import { ApiErrorBody, ApiErrorCode } from './api.error';
import { MAX_JSON_DEPTH, TOO_DEEP_ERROR_TYPE } from './json-body.limits';

export interface ApiErrorResponse {
  status: number;
  body: ApiErrorBody;
}

/** Where a submitted URL's GitError lands. Every other GitError code is a server fault. */
const GIT_STATUSES: Partial<Record<GitErrorCode, HttpStatus>> = {
  [GitErrorCode.INVALID_URL]: HttpStatus.BAD_REQUEST,
  [GitErrorCode.BLOCKED_BY_POLICY]: HttpStatus.BAD_REQUEST,
  [GitErrorCode.REDIRECT_BLOCKED]: HttpStatus.BAD_REQUEST,
  [GitErrorCode.NOT_FOUND]: HttpStatus.BAD_REQUEST,
  [GitErrorCode.NETWORK]: HttpStatus.SERVICE_UNAVAILABLE,
};

// The git lib says NOT_FOUND for a host without DNS records; in the API that code means
// "no such archive" (404), so a URL naming a non-existent host gets its own code.
const UNKNOWN_HOST = 'UNKNOWN_HOST';

/**
 * Turns anything thrown while serving a request into a status and the `{"error": {code, message}}`
 * body. Also used per URL by the batch endpoint, so one URL's error reads the same whether
 * it was submitted alone or in a batch.
 */
export function toApiErrorResponse(exception: unknown): ApiErrorResponse {
  if (exception instanceof HttpException) return fromHttpException(exception);
  if (exception instanceof GitError) return fromGitError(exception);
  if (exception instanceof DatabaseError) {
    const status =
      exception.code === DatabaseErrorCode.NotFound
        ? HttpStatus.NOT_FOUND
        : exception.code === DatabaseErrorCode.Conflict
          ? HttpStatus.CONFLICT
          : HttpStatus.SERVICE_UNAVAILABLE;
    return respond(status, exception.code, exception.message);
  }
  if (exception instanceof QueueError) {
    return respond(HttpStatus.SERVICE_UNAVAILABLE, exception.code, 'The queue is unavailable; try again shortly');
  }
  if (exception instanceof StorageError) {
    // Storage messages name endpoints and S3 internals: logged by the filter, not shown.
    return exception.code === StorageErrorCode.UNAVAILABLE
      ? respond(HttpStatus.SERVICE_UNAVAILABLE, exception.code, 'Object storage is unavailable; try again shortly')
      : respond(HttpStatus.INTERNAL_SERVER_ERROR, exception.code, 'Object storage refused the request; it has been logged');
  }
  return respond(HttpStatus.INTERNAL_SERVER_ERROR, 'INTERNAL', 'Something went wrong on our side; it has been logged');
}

function fromGitError(error: GitError): ApiErrorResponse {
  const status = GIT_STATUSES[error.code] ?? HttpStatus.INTERNAL_SERVER_ERROR;
  if (error.code === GitErrorCode.NOT_FOUND) return respond(status, UNKNOWN_HOST, error.message);
  if (error.code === GitErrorCode.NETWORK) {
    return respond(status, error.code, "The repository's host could not be looked up right now (temporary DNS failure); try again shortly");
  }
  if (status === HttpStatus.INTERNAL_SERVER_ERROR) {
    return respond(status, 'INTERNAL', 'Something went wrong on our side; it has been logged');
  }
  return respond(status, error.code, error.message);
}

/** body-parser's failures arrive as HttpExceptions whose `cause` carries its `type`. */
const BODY_PARSER_ERRORS: Record<string, (cause: BodyParserError) => ApiErrorResponse> = {
  'entity.parse.failed': (cause) =>
    respond(
      HttpStatus.BAD_REQUEST,
      ApiErrorCode.InvalidRequest,
      `The request body is not valid JSON (${cause.message}); send e.g. {"url": "https://host/owner/repo.git"}`,
    ),
  [TOO_DEEP_ERROR_TYPE]: () =>
    respond(
      HttpStatus.BAD_REQUEST,
      ApiErrorCode.InvalidRequest,
      `The JSON body is nested more than ${MAX_JSON_DEPTH} levels deep; the API's bodies are flat, e.g. {"urls": ["https://host/owner/repo.git"]}`,
    ),
  'entity.too.large': (cause) =>
    respond(
      HttpStatus.PAYLOAD_TOO_LARGE,
      ApiErrorCode.PayloadTooLarge,
      `The request body is larger than ${cause.limit ?? 'the limit of'} bytes; send fewer URLs per request`,
    ),
  'encoding.unsupported': () =>
    respond(HttpStatus.UNSUPPORTED_MEDIA_TYPE, ApiErrorCode.UnsupportedMediaType, 'Send the body uncompressed (or gzip/deflate)'),
  'charset.unsupported': () =>
    respond(HttpStatus.UNSUPPORTED_MEDIA_TYPE, ApiErrorCode.UnsupportedMediaType, 'Send the JSON body encoded as UTF-8'),
};

interface BodyParserError {
  type?: string;
  message: string;
  limit?: number;
}

function fromHttpException(exception: HttpException): ApiErrorResponse {
  const status = exception.getStatus();
  const cause = exception.cause as BodyParserError | undefined;
  const parserError = typeof cause?.type === 'string' ? BODY_PARSER_ERRORS[cause.type] : undefined;
  if (parserError) return parserError(cause!);

  const response = exception.getResponse();
  if (typeof response === 'object' && response !== null && 'error' in response && typeof response.error === 'object') {
    return { status, body: response as ApiErrorBody };
  }
  const message = typeof response === 'string' ? response : ((response as { message?: unknown }).message ?? exception.message);
  return respond(status, codeFor(status), Array.isArray(message) ? message.join('; ') : String(message));
}

function respond(status: number, code: string, message: string): ApiErrorResponse {
  return { status, body: { error: { code, message } } };
}

function codeFor(status: number): string {
  return (
    {
      400: 'BAD_REQUEST',
      401: 'UNAUTHENTICATED',
      403: 'FORBIDDEN',
      404: 'NOT_FOUND',
      409: 'CONFLICT',
      413: 'PAYLOAD_TOO_LARGE',
      415: 'UNSUPPORTED_MEDIA_TYPE',
      429: 'TOO_MANY_REQUESTS',
    }[status] ?? (status >= 500 ? 'INTERNAL' : 'ERROR')
  );
}

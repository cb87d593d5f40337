import { HttpException, HttpStatus } from '@nestjs/common';
import { CodedError, ErrorDomain, ErrorKey, errorKey } from '@archiver/errors';
import { ApiErrorBody, ApiErrorCode } from './api.error';
import { MAX_JSON_DEPTH, TOO_DEEP_ERROR_TYPE } from './json-body.limits';

export interface ApiErrorResponse {
  status: number;
  body: ApiErrorBody;
}

/** How one lib error is answered: a status, and where the lib's code or message must not be shown, what is. */
interface Answer {
  status: HttpStatus;
  code?: string;
  message?: string;
}

const SERVER_FAULT: Answer = {
  status: HttpStatus.INTERNAL_SERVER_ERROR,
  code: 'INTERNAL',
  message: 'Something went wrong on our side; it has been logged',
};

/** Every lib error the API answers other than with a 500, by `domain:code`. */
const ANSWERS: Partial<Record<ErrorKey, Answer>> = {
  // A submitted URL the policy or the host refuses.
  'git:INVALID_URL': { status: HttpStatus.BAD_REQUEST },
  'git:BLOCKED_BY_POLICY': { status: HttpStatus.BAD_REQUEST },
  'git:REDIRECT_BLOCKED': { status: HttpStatus.BAD_REQUEST },
  // The git lib says NOT_FOUND for a host without DNS records; in the API that code means
  // "no such archive" (404), so a URL naming a non-existent host gets its own code.
  'git:NOT_FOUND': { status: HttpStatus.BAD_REQUEST, code: 'UNKNOWN_HOST' },
  'git:NETWORK': {
    status: HttpStatus.SERVICE_UNAVAILABLE,
    message: "The repository's host could not be looked up right now (temporary DNS failure); try again shortly",
  },
  'database:NOT_FOUND': { status: HttpStatus.NOT_FOUND },
  'database:CONFLICT': { status: HttpStatus.CONFLICT },
  'database:DATABASE_UNAVAILABLE': { status: HttpStatus.SERVICE_UNAVAILABLE },
  'database:DATABASE_FAILED': { status: HttpStatus.SERVICE_UNAVAILABLE },
  'queue:QUEUE_UNAVAILABLE': { status: HttpStatus.SERVICE_UNAVAILABLE, message: 'The queue is unavailable; try again shortly' },
  // Storage messages name endpoints and S3 internals: logged by the filter, not shown.
  'storage:STORAGE_UNAVAILABLE': { status: HttpStatus.SERVICE_UNAVAILABLE, message: 'Object storage is unavailable; try again shortly' },
  // The server cannot encrypt: an operator must set CREDENTIAL_KEYS (the message says so).
  'credentials:CREDENTIAL_KEYS_MISSING': { status: HttpStatus.SERVICE_UNAVAILABLE },
  'credentials:CREDENTIAL_INVALID': { status: HttpStatus.BAD_REQUEST },
  // Quotas (libs/tracking), shared by the API and the worker's imports.
  'tracking:TRACKED_LIMIT': { status: HttpStatus.TOO_MANY_REQUESTS },
  'tracking:QUOTA_EXCEEDED': { status: HttpStatus.FORBIDDEN },
  'tracking:CREDENTIAL_ALREADY_SET': { status: HttpStatus.CONFLICT },
  'tracking:NOT_FOUND': { status: HttpStatus.NOT_FOUND },
  // An import's forge answers (libs/imports) are the worker's to report; only the request's own checks reach the API.
  'imports:INVALID_GLOB': { status: HttpStatus.BAD_REQUEST },
};

/** What any other error of a domain answers. */
const DOMAIN_DEFAULTS: Partial<Record<ErrorDomain, Answer>> = {
  storage: { status: HttpStatus.INTERNAL_SERVER_ERROR, message: 'Object storage refused the request; it has been logged' },
};

/**
 * Turns anything thrown while serving a request into a status and the `{"error": {code, message}}`
 * body. Also used per URL by the batch endpoint, so one URL's error reads the same whether
 * it was submitted alone or in a batch.
 */
export function toApiErrorResponse(exception: unknown): ApiErrorResponse {
  if (exception instanceof HttpException) return fromHttpException(exception);
  if (CodedError.is(exception)) {
    const answer = ANSWERS[errorKey(exception)] ?? DOMAIN_DEFAULTS[exception.domain] ?? SERVER_FAULT;
    return respond(answer.status, answer.code ?? exception.code, answer.message ?? exception.message);
  }
  return respond(SERVER_FAULT.status, SERVER_FAULT.code!, SERVER_FAULT.message!);
}

/** body-parser's failures arrive as HttpExceptions whose `cause` carries its `type`. */
const BODY_PARSER_ERRORS: Record<string, (cause: BodyParserError) => ApiErrorResponse> = {
  'entity.parse.failed': (cause) =>
    respond(
      HttpStatus.BAD_REQUEST,
      ApiErrorCode.InvalidRequest,
      topLevelKind(cause.body) === undefined
        ? `The request body is not valid JSON (${cause.message}); send e.g. {"url": "https://host/owner/repo.git"}`
        : `The request body must be a JSON object, not ${topLevelKind(cause.body)}; send e.g. {"url": "https://host/owner/repo.git"}`,
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

/**
 * body-parser (strict) refuses any top-level JSON but an object or array with the same syntax
 * error as broken JSON; `null`, `123` or `"text"` are valid JSON, just not a body. Undefined
 * when `body` does not parse.
 */
function topLevelKind(body: string | undefined): string | undefined {
  if (body === undefined || body.length > MAX_KIND_CHECK_BYTES) return undefined;
  try {
    const value: unknown = JSON.parse(body);
    return value === null ? 'null' : `a ${typeof value}`;
  } catch {
    return undefined;
  }
}
const MAX_KIND_CHECK_BYTES = 64 * 1024;

interface BodyParserError {
  type?: string;
  message: string;
  /** The raw body, when it could not be parsed. */
  body?: string;
  limit?: number;
  code?: string;
}

/**
 * Failures that reach the filter as a bare 400 whose cause names only a library's internals
 * (zlib's "incorrect header check", the router's "Failed to decode param"): said in words a
 * caller can act on.
 */
function fromUntypedCause(cause: BodyParserError | undefined): ApiErrorResponse | undefined {
  // zlib's codes (Z_DATA_ERROR, Z_BUF_ERROR) and brotli's (ERR__ERROR_FORMAT_…, ERR_BROTLI_…).
  if (typeof cause?.code === 'string' && /^(Z_|ERR__ERROR_FORMAT|ERR_BROTLI)/.test(cause.code)) {
    return respond(
      HttpStatus.BAD_REQUEST,
      ApiErrorCode.InvalidRequest,
      `The request body is not valid data for its Content-Encoding (${cause.message}); send it uncompressed, or compressed as the header says`,
    );
  }
  if (cause instanceof URIError) {
    return respond(
      HttpStatus.BAD_REQUEST,
      ApiErrorCode.InvalidRequest,
      `The URL's path has broken percent-encoding (${cause.message.replace(/^Failed to decode param /, '')}); write a literal % as %25`,
    );
  }
  return undefined;
}

function fromHttpException(exception: HttpException): ApiErrorResponse {
  const status = exception.getStatus();
  const cause = exception.cause as BodyParserError | undefined;
  const parserError = typeof cause?.type === 'string' ? BODY_PARSER_ERRORS[cause.type] : undefined;
  if (parserError) return parserError(cause!);
  const untyped = exception.getStatus() === HttpStatus.BAD_REQUEST ? fromUntypedCause(cause) : undefined;
  if (untyped) return untyped;

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

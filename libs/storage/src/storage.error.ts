import { CodedError } from '@archiver/errors';

/**
 * Stable codes for everything that can go wrong talking to object storage.
 * Never rename the values: they end up in an archive's `error` column and in logs.
 */
export enum StorageErrorCode {
  /** Object storage could not be reached or answered "try again" (refused, reset, timeout, 5xx). */
  UNAVAILABLE = 'STORAGE_UNAVAILABLE',
  /** The bucket, object or upload does not exist. */
  NOT_FOUND = 'STORAGE_NOT_FOUND',
  /** The request can never succeed as made: bad name, key, size or argument. */
  INVALID = 'STORAGE_INVALID',
  /** Anything else (access denied, unexpected answers); retrying will not help by itself. */
  FAILED = 'STORAGE_FAILED',
  /** The caller's signal cancelled the work (shutdown, lost job lock, cancelled archive). */
  ABORTED = 'STORAGE_ABORTED',
}

export class StorageError extends CodedError<StorageErrorCode> {
  override readonly name = 'StorageError';
  readonly domain = 'storage';

  constructor(code: StorageErrorCode, message: string, options?: { cause?: unknown }) {
    // ABORTED as GitError's: the store did nothing wrong; whoever cancelled decides what happens next.
    super(code, message, { cause: options?.cause, transient: code === StorageErrorCode.UNAVAILABLE || code === StorageErrorCode.ABORTED });
  }
}

// Socket-level failures mean "could not talk to the server right now", never "the request is wrong".
const TRANSIENT_SYSTEM_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

// S3 error codes (from the XML body or minio-js's status mapping) by what they mean for a caller.
const TRANSIENT_S3_CODES = new Set([
  'InternalError',
  'ServiceUnavailable',
  'SlowDown',
  'RequestTimeout',
  'XMinioServerNotInitialized',
  'XMinioOperationTimedOut',
  'XMinioReadQuorum',
  'XMinioWriteQuorum',
]);
const NOT_FOUND_S3_CODES = new Set(['NoSuchBucket', 'NoSuchKey', 'NotFound', 'NoSuchUpload', 'NoSuchVersion']);
const INVALID_S3_CODES = new Set([
  'InvalidBucketName',
  'InvalidObjectName',
  'InvalidArgument',
  'InvalidRequest',
  'KeyTooLongError',
  'EntityTooLarge',
  'EntityTooSmall',
  'IncompleteBody',
  'BucketNotEmpty',
  'XMinioInvalidObjectName',
  'XMinioInvalidResourceName',
]);
// minio-js validates arguments before sending anything; these class names mean the call itself is wrong.
const INVALID_CLIENT_ERRORS = new Set([
  'InvalidArgumentError',
  'InvalidBucketNameError',
  'InvalidObjectNameError',
  'InvalidPrefixError',
  'InvalidEndpointError',
  'InvalidPortError',
  'ExpiresParamError',
  'IncorrectSizeError',
  'TypeError',
  // encodeURIComponent on a key holding a lone surrogate.
  'URIError',
]);

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  errors?: unknown;
}

function codeOf(error: ErrorLike): string | undefined {
  if (typeof error.code === 'string' && error.code) return error.code;
  // Node's happy-eyeballs connect reports one AggregateError holding an error per address tried.
  if (Array.isArray(error.errors)) {
    for (const inner of error.errors as ErrorLike[]) {
      if (inner && typeof inner.code === 'string') return inner.code;
    }
  }
  return undefined;
}

// S3 XML bodies arrive entity-encoded (MinIO writes `&#34;..&#34;`); messages are for people.
function decodeEntities(text: string): string {
  return text
    .replace(/&#34;|&quot;/g, '"')
    .replace(/&#39;|&apos;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

function classify(error: ErrorLike, code: string | undefined, message: string): StorageErrorCode {
  if (code && TRANSIENT_SYSTEM_CODES.has(code)) return StorageErrorCode.UNAVAILABLE;
  if (code && TRANSIENT_S3_CODES.has(code)) return StorageErrorCode.UNAVAILABLE;
  if (code && NOT_FOUND_S3_CODES.has(code)) return StorageErrorCode.NOT_FOUND;
  if (code && INVALID_S3_CODES.has(code)) return StorageErrorCode.INVALID;
  // minio-js retries 5xx itself and then throws a plain Error that only names the status.
  if (/Retryable HTTP status: 5\d\d/.test(message)) return StorageErrorCode.UNAVAILABLE;
  if (typeof error.name === 'string' && INVALID_CLIENT_ERRORS.has(error.name)) return StorageErrorCode.INVALID;
  return StorageErrorCode.FAILED;
}

/**
 * Translates whatever minio-js, Node's sockets or a stream threw into a StorageError, keeping
 * the original as `cause`. `action` says what was attempted, e.g. `put bucket/key`.
 */
export function toStorageError(error: unknown, action: string): StorageError {
  if (error instanceof StorageError) return error;
  const like: ErrorLike = typeof error === 'object' && error !== null ? (error as ErrorLike) : {};
  const code = codeOf(like);
  const rawMessage = typeof like.message === 'string' && like.message ? like.message : String(error);
  const message = decodeEntities(rawMessage);
  const kind = classify(like, code, message);
  const detail = code && !message.includes(code) ? `${code}: ${message}` : message;
  return new StorageError(kind, `${action} failed: ${detail}`, { cause: error });
}

/** True for an S3 error with the given code, e.g. `BucketAlreadyOwnedByYou`. */
export function hasS3Code(error: unknown, ...codes: string[]): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const code = (error as ErrorLike).code;
  return typeof code === 'string' && codes.includes(code);
}

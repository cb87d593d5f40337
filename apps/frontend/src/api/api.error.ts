import { HttpException, HttpStatus } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';

/**
 * Codes the API itself produces (the libs' codes — INVALID_URL, BLOCKED_BY_POLICY, QUEUE_UNAVAILABLE…
 * — pass through unchanged). Never rename a value: clients match on them.
 */
export enum ApiErrorCode {
  InvalidRequest = 'INVALID_REQUEST',
  NotFound = 'NOT_FOUND',
  /** The archive is pending, queued or running, so its snapshot cannot be deleted yet. */
  ArchiveActive = 'ARCHIVE_ACTIVE',
  /** The archive's snapshot holds the content of later unchanged visits. */
  ArchiveReferenced = 'ARCHIVE_REFERENCED',
  /** The archive has no downloadable snapshot (not completed, or an empty repository). */
  NoBundle = 'NO_BUNDLE',
  /** The snapshot is stored as increments and its single bundle is still being built. */
  BundlePreparing = 'BUNDLE_PREPARING',
  /** Building the snapshot's single bundle failed (e.g. a stored bundle is corrupted). */
  BundleFailed = 'BUNDLE_FAILED',
  /** Only a completed snapshot can be restored as a drill. */
  NotVerifiable = 'NOT_VERIFIABLE',
  PayloadTooLarge = 'PAYLOAD_TOO_LARGE',
  /** Too many submissions in the last minute (SUBMISSIONS_PER_MINUTE); Retry-After says when. */
  RateLimited = 'RATE_LIMITED',
  /** The user tracks as many repositories as allowed (MAX_TRACKED_REPOSITORIES_PER_USER). */
  TrackedLimit = 'TRACKED_LIMIT',
  /** The user's archives hold their stored-bytes quota (USER_STORED_BYTES_QUOTA). */
  QuotaExceeded = 'QUOTA_EXCEEDED',
  UnsupportedMediaType = 'UNSUPPORTED_MEDIA_TYPE',
}

export interface ApiErrorBody {
  error: { code: string; message: string };
}

/**
 * An error the API answers on purpose. Its body is already `{"error": {code, message}}`,
 * which ApiExceptionFilter passes through as is; `message` is shown to people, so it says
 * what to do next.
 */
export class ApiError extends HttpException {
  constructor(
    status: HttpStatus,
    readonly code: string,
    message: string,
  ) {
    super({ error: { code, message } } satisfies ApiErrorBody, status);
    this.message = message;
  }

  static invalidRequest(message: string): ApiError {
    return new ApiError(HttpStatus.BAD_REQUEST, ApiErrorCode.InvalidRequest, message);
  }

  static notFound(message: string): ApiError {
    return new ApiError(HttpStatus.NOT_FOUND, ApiErrorCode.NotFound, message);
  }
}

export class ApiErrorDetailView {
  @ApiProperty({ description: 'Stable machine-readable code', example: 'INVALID_URL' })
  code!: string;

  @ApiProperty({
    description: 'What went wrong and what to do about it, for people',
    example: 'Invalid repository URL "ftp://x": only https:// and http:// repositories can be archived (got "ftp:")',
  })
  message!: string;
}

/** The body of every error answer, for the OpenAPI document. */
export class ApiErrorView {
  @ApiProperty({ type: ApiErrorDetailView })
  error!: ApiErrorDetailView;
}

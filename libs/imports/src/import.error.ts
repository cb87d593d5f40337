import { CodedError } from '@archiver/errors';

/** Stable codes (stored on imports, matched by clients: never rename one). */
export enum ImportErrorCode {
  /** The forge refused the token (401/403), or a private owner needs one. */
  FORGE_AUTH_FAILED = 'FORGE_AUTH_FAILED',
  /** No user or organization of that name on the forge. */
  FORGE_NOT_FOUND = 'FORGE_NOT_FOUND',
  /** The forge did not answer, answered 5xx or 429, or too slowly: worth another try. */
  FORGE_UNAVAILABLE = 'FORGE_UNAVAILABLE',
  /** The answer is not what the forge's documented API returns (not JSON, wrong shape, a next page on another host). */
  FORGE_RESPONSE_INVALID = 'FORGE_RESPONSE_INVALID',
  /** One page was larger than IMPORT_MAX_RESPONSE_BYTES. */
  FORGE_RESPONSE_TOO_LARGE = 'FORGE_RESPONSE_TOO_LARGE',
  /** The listing had more pages than IMPORT_MAX_PAGES. */
  IMPORT_TOO_MANY_PAGES = 'IMPORT_TOO_MANY_PAGES',
  /** An include or exclude pattern is not a usable glob. */
  INVALID_GLOB = 'INVALID_GLOB',
}

const TRANSIENT: ReadonlySet<ImportErrorCode> = new Set([ImportErrorCode.FORGE_UNAVAILABLE]);

export class ImportError extends CodedError<ImportErrorCode> {
  override readonly name = 'ImportError';
  readonly domain = 'imports';

  constructor(code: ImportErrorCode, message: string, options: { detail?: string; cause?: unknown } = {}) {
    super(code, message, { ...options, transient: TRANSIENT.has(code) });
  }
}

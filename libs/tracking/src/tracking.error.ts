import { CodedError } from '@archiver/errors';

/** Stable codes (answered by the API, stored on import items: never rename one). */
export enum TrackingErrorCode {
  /** The user tracks as many repositories as allowed (MAX_TRACKED_REPOSITORIES_PER_USER). */
  TRACKED_LIMIT = 'TRACKED_LIMIT',
  /** The user's archives hold their stored-bytes quota (USER_STORED_BYTES_QUOTA). */
  QUOTA_EXCEEDED = 'QUOTA_EXCEEDED',
  /** Someone who does not track the repository yet tried to replace its credential. */
  CREDENTIAL_ALREADY_SET = 'CREDENTIAL_ALREADY_SET',
  /** The repository vanished between recording its visit and tracking it (purged meanwhile). */
  NOT_FOUND = 'NOT_FOUND',
}

export class TrackingError extends CodedError<TrackingErrorCode> {
  override readonly name = 'TrackingError';
  readonly domain = 'tracking';

  // A limit is lifted by a person, not by retrying.
  constructor(code: TrackingErrorCode, message: string) {
    super(code, message, { transient: false });
  }
}

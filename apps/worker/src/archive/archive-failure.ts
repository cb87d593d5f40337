import { CodedError, ErrorKey, errorKey } from '@archiver/errors';

export interface ArchiveFailure {
  /** Stable code stored in the archive's `errorCode`. */
  code: string;
  /** What a person reads in the archive's `error`. */
  message: string;
  /** Worth another attempt (network blips, 5xx of the repository's server)? */
  transient: boolean;
  /**
   * Our own infrastructure (database, Redis, object storage) failed, not the repository: the
   * run is postponed until it is back, without using up an attempt.
   */
  infrastructure: boolean;
}

/** Outages of what we run ourselves: never the repository's fault, never an attempt used up. */
const OUR_INFRASTRUCTURE: ReadonlySet<ErrorKey> = new Set([
  'database:DATABASE_UNAVAILABLE',
  'queue:QUEUE_UNAVAILABLE',
  'storage:STORAGE_UNAVAILABLE',
]);

/** Messages that read better with a word of context for the archive's owner. */
const MESSAGE_PREFIX: Partial<Record<ErrorKey, string>> = {
  'storage:STORAGE_UNAVAILABLE': 'Object storage is unavailable',
};

/** Turns whatever an attempt threw into the reason recorded on the archive. */
export function describeFailure(error: unknown): ArchiveFailure {
  if (CodedError.is(error)) {
    const key = errorKey(error);
    const prefix = MESSAGE_PREFIX[key];
    return {
      code: error.code,
      message: prefix ? `${prefix} (${error.message})` : error.message,
      transient: error.transient,
      infrastructure: OUR_INFRASTRUCTURE.has(key),
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'INTERNAL', message: `Unexpected error while archiving: ${message}`, transient: true, infrastructure: false };
}

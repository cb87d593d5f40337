import { DatabaseError } from '@archiver/database';
import { GitError } from '@archiver/git';
import { QueueError } from '@archiver/queue';
import { StorageError, StorageErrorCode } from '@archiver/storage';
import { WorkDirError } from '../clone/work-dir';

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

/** Turns whatever an attempt threw into the reason recorded on the archive. */
export function describeFailure(error: unknown): ArchiveFailure {
  if (error instanceof GitError) return { code: error.code, message: error.message, transient: error.transient, infrastructure: false };
  if (error instanceof StorageError) {
    const unavailable = error.code === StorageErrorCode.UNAVAILABLE;
    return {
      code: error.code,
      message: unavailable ? `Object storage is unavailable (${error.message})` : error.message,
      transient: error.transient,
      infrastructure: unavailable,
    };
  }
  if (error instanceof WorkDirError) return { code: error.code, message: error.message, transient: error.transient, infrastructure: false };
  if (error instanceof DatabaseError || error instanceof QueueError) {
    return { code: error.code, message: error.message, transient: error.transient, infrastructure: error.transient };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'INTERNAL', message: `Unexpected error while archiving: ${message}`, transient: true, infrastructure: false };
}

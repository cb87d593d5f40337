import { DatabaseError } from '@archiver/database';
import { GitError } from '@archiver/git';
import { QueueError } from '@archiver/queue';
import { StorageError } from '@archiver/storage';

export interface ArchiveFailure {
  /** Stable code stored in the archive's `errorCode`. */
  code: string;
  /** What a person reads in the archive's `error`. */
  message: string;
  /** Worth another attempt (network, storage or database blips)? */
  transient: boolean;
}

/** Turns whatever an attempt threw into the reason recorded on the archive. */
export function describeFailure(error: unknown): ArchiveFailure {
  if (error instanceof GitError) return { code: error.code, message: error.message, transient: error.transient };
  if (error instanceof StorageError) {
    return {
      code: error.code,
      message: error.transient ? `Object storage is unavailable (${error.message}); the archive will be retried` : error.message,
      transient: error.transient,
    };
  }
  if (error instanceof DatabaseError || error instanceof QueueError) {
    return { code: error.code, message: error.message, transient: error.transient };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'INTERNAL', message: `Unexpected error while archiving: ${message}`, transient: true };
}

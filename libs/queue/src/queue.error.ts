import { UnrecoverableError } from 'bullmq';
import { CodedError } from '@archiver/errors';

export enum QueueErrorCode {
  Unavailable = 'QUEUE_UNAVAILABLE',
}

export class QueueError extends CodedError<QueueErrorCode> {
  override readonly name = 'QueueError';
  readonly domain = 'queue';

  constructor(code: QueueErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, { cause: options?.cause, transient: true });
  }
}

/** Thrown by a handler for a failure that retrying cannot fix: the job fails at once. */
export class PermanentJobError extends UnrecoverableError {}

/**
 * Thrown by a handler when the job should run again later WITHOUT counting an attempt: our
 * own infrastructure (database, Redis, object storage) is down, another run holds the
 * archive, or the run was interrupted (shutdown, lost lock). Attempts are for failures of
 * the repository's server; an outage of ours must not use them up.
 */
export class RetryLaterError extends Error {
  constructor(
    message: string,
    readonly delayMs: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RetryLaterError';
  }
}

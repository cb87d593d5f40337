import { UnrecoverableError } from 'bullmq';

export enum QueueErrorCode {
  Unavailable = 'QUEUE_UNAVAILABLE',
}

export class QueueError extends Error {
  readonly transient = true;
  constructor(
    readonly code: QueueErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'QueueError';
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

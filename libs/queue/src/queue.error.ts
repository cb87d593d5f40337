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

/** Where an error comes from; with its code it is the key the API and the worker look up. */
export type ErrorDomain = 'git' | 'storage' | 'database' | 'queue' | 'worker' | 'credentials' | 'tracking' | 'imports';

export interface CodedErrorOptions {
  /** Whether the same call may succeed later; each lib knows its own codes' default. */
  readonly transient?: boolean;
  /** Technical detail for the logs (e.g. a program's stderr), never shown as the message. */
  readonly detail?: string;
  readonly cause?: unknown;
}

/**
 * The base of every lib's error: a stable code (never renamed: stored in archives, matched by
 * clients), whether retrying may help, and a message a person can act on. Callers decide by
 * looking `domain:code` up in a table (errorKey), never by chains of instanceof.
 */
export abstract class CodedError<C extends string = string> extends Error {
  abstract readonly domain: ErrorDomain;
  readonly transient: boolean;
  readonly detail?: string;

  protected constructor(
    readonly code: C,
    message: string,
    options: CodedErrorOptions & { transient: boolean },
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.transient = options.transient;
    if (options.detail !== undefined) this.detail = options.detail;
  }

  static is(value: unknown): value is CodedError {
    return value instanceof CodedError;
  }
}

/** `git:NOT_FOUND`, `database:DATABASE_UNAVAILABLE`…: the key of lookup tables. */
export type ErrorKey = `${ErrorDomain}:${string}`;

export function errorKey(error: CodedError): ErrorKey {
  return `${error.domain}:${error.code}`;
}

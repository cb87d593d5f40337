import { HttpException, HttpStatus } from '@nestjs/common';

/** Stable codes: clients and logs match on these, so never rename them. */
export enum AuthErrorCode {
  /** No credentials, or credentials that cannot be trusted (bad token of any kind). */
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  /** A known user without the role the route needs. */
  FORBIDDEN = 'FORBIDDEN',
  /** Tokens cannot be checked because Keycloak's signing keys are out of reach. */
  UNAVAILABLE = 'UNAVAILABLE',
}

const statusOf: Record<AuthErrorCode, HttpStatus> = {
  [AuthErrorCode.UNAUTHENTICATED]: HttpStatus.UNAUTHORIZED,
  [AuthErrorCode.FORBIDDEN]: HttpStatus.FORBIDDEN,
  [AuthErrorCode.UNAVAILABLE]: HttpStatus.SERVICE_UNAVAILABLE,
};

export interface AuthErrorBody {
  error: { code: AuthErrorCode; message: string };
}

/**
 * The auth lib's one error type. It is an HttpException so that Nest's default exception
 * handler already answers with the right status and the `{"error":{code,message}}` body;
 * `message` is shown to the caller, so it says what to do and never carries internal
 * addresses (those go in `cause`, for the logs).
 */
export class AuthError extends HttpException {
  constructor(
    readonly code: AuthErrorCode,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super({ error: { code, message } } satisfies AuthErrorBody, statusOf[code], { cause: options.cause });
    this.name = 'AuthError';
    // HttpException derives `message` from the body; callers expect the human sentence.
    this.message = message;
  }

  static unauthenticated(message: string, cause?: unknown): AuthError {
    return new AuthError(AuthErrorCode.UNAUTHENTICATED, message, { cause });
  }

  static forbidden(message: string): AuthError {
    return new AuthError(AuthErrorCode.FORBIDDEN, message);
  }

  static unavailable(message: string, cause?: unknown): AuthError {
    return new AuthError(AuthErrorCode.UNAVAILABLE, message, { cause });
  }
}

import { ExecutionContext, HttpStatus, Injectable } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
import type { AuthenticatedRequest } from '@archiver/auth';
import { ApiError, ApiErrorCode } from '../api/api.error';

/** The one throttler: submissions per user per minute (config.limits). */
export const SUBMISSIONS = 'submissions';

type LimitDetail = Parameters<ThrottlerGuard['throwThrottlingException']>[1];

/**
 * Per-user submission rate, shared by every route that creates work (put it on each with
 * `@UseGuards(SubmissionThrottlerGuard)`: it runs after the app's auth guard, so the user is
 * known). One counter per user across those routes and across frontend processes (Redis).
 * Admins have their own limit (0: none).
 */
@Injectable()
export class SubmissionThrottlerGuard extends ThrottlerGuard {
  protected override async getTracker(request: Record<string, unknown>): Promise<string> {
    return (request as unknown as AuthenticatedRequest).user?.subject ?? 'anonymous';
  }

  // Not per route: a user's submissions through any of the routes count together. The subject
  // is Keycloak's (a UUID the token's signature vouches for), so it is the key as it is: hashing
  // it cost every request ~9 µs (bench/README.md, Ingest) and hid nothing.
  protected override generateKey(_context: ExecutionContext, tracker: string): string {
    return tracker;
  }

  protected override async throwThrottlingException(context: ExecutionContext, detail: LimitDetail): Promise<void> {
    const response = context.switchToHttp().getResponse<{ setHeader(name: string, value: string): void }>();
    response.setHeader('Retry-After', String(detail.timeToBlockExpire));
    throw new ApiError(
      HttpStatus.TOO_MANY_REQUESTS,
      ApiErrorCode.RateLimited,
      `You submitted more than ${detail.limit} times in a minute (archives, tracked repositories and visits count together); try again in ${detail.timeToBlockExpire} s`,
    );
  }
}

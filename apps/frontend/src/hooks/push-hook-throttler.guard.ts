import { CanActivate, ExecutionContext, HttpStatus, Inject, Injectable } from '@nestjs/common';
import { InjectThrottlerStorage, type ThrottlerStorage } from '@nestjs/throttler';
import type { Request, Response } from 'express';
import { createHash } from 'node:crypto';
import { APP_CONFIG, type AppConfig } from '@archiver/config';
import { ApiError, ApiErrorCode } from '../api/api.error';

const WINDOW_MS = 60_000;
const THROTTLER_NAME = 'push-hooks';

/**
 * Push hooks per repository per minute (PUSH_HOOKS_PER_MINUTE), counted in the throttler's
 * Redis storage so every frontend process shares the count. Per repository, not per caller:
 * hooks are anonymous, and a flood aimed at one repository must not cost the others. It runs
 * before the signature check, so unsigned floods are bounded too.
 */
@Injectable()
export class PushHookThrottlerGuard implements CanActivate {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectThrottlerStorage() private readonly storage: ThrottlerStorage,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const limit = this.config.pushHooks.perMinute;
    if (limit === 0) return true;
    const http = context.switchToHttp();
    // Hashed: the id is not validated yet, and a key of arbitrary length must not reach Redis.
    const repositoryId = createHash('sha256')
      .update(String(http.getRequest<Request>().params.repositoryId ?? '').toLowerCase())
      .digest('hex');
    const { isBlocked, timeToBlockExpire } = await this.storage.increment(
      `push-hook:${repositoryId}`,
      WINDOW_MS,
      limit,
      WINDOW_MS,
      THROTTLER_NAME,
    );
    if (!isBlocked) return true;
    http.getResponse<Response>().setHeader('Retry-After', String(Math.max(1, timeToBlockExpire)));
    throw new ApiError(
      HttpStatus.TOO_MANY_REQUESTS,
      ApiErrorCode.RateLimited,
      `More than ${limit} push hooks a minute for this repository; try again in ${Math.max(1, timeToBlockExpire)} s`,
    );
  }
}

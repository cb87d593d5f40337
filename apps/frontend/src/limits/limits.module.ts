import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { ThrottlerModule } from '@nestjs/throttler';
import Redis from 'ioredis';
import type { AuthenticatedRequest } from '@archiver/auth';
import { APP_CONFIG, AppConfig } from '@archiver/config';
import { RedisThrottlerStorage, redisOptions } from '@archiver/queue';
import { SUBMISSIONS, SubmissionThrottlerGuard } from './submission-throttler.guard';
import { UsageLimits } from './usage-limits';

const THROTTLER_REDIS = Symbol('THROTTLER_REDIS');

/**
 * The throttler's own Redis connection (fail-fast producer settings), closed with the app. No
 * auto pipelining: RedisThrottlerStorage already sends the requests of one turn as one command,
 * and ioredis' pipeline around a lone command cost the frontend ~10 µs a request.
 */
class ThrottlerRedis implements OnApplicationShutdown {
  constructor(@Inject(THROTTLER_REDIS) private readonly redis: Redis) {}

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

@Module({
  providers: [
    {
      provide: THROTTLER_REDIS,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => new Redis(redisOptions(config.redis.url, 'producer')),
    },
    ThrottlerRedis,
  ],
  exports: [THROTTLER_REDIS],
})
class ThrottlerRedisModule {}

/** A limit of 0 means none: the throttler then skips the request. */
function unlimited(limit: number): boolean {
  return limit === 0;
}

/**
 * Per-user limits (issue 13): the submission rate through @nestjs/throttler with its counters in
 * Redis (RedisThrottlerStorage), so several frontend processes enforce one limit; quotas on
 * tracked repositories and stored bytes in UsageLimits.
 */
@Global()
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      imports: [ThrottlerRedisModule],
      inject: [APP_CONFIG, THROTTLER_REDIS],
      useFactory: (config: AppConfig, redis: Redis) => ({
        storage: new RedisThrottlerStorage(redis),
        throttlers: [
          {
            name: SUBMISSIONS,
            ttl: 60_000,
            limit: (context) => {
              const user = context.switchToHttp().getRequest<AuthenticatedRequest>().user;
              return user?.isAdmin ? config.limits.adminSubmissionsPerMinute : config.limits.submissionsPerMinute;
            },
            skipIf: (context) => {
              const user = context.switchToHttp().getRequest<AuthenticatedRequest>().user;
              return unlimited(user?.isAdmin ? config.limits.adminSubmissionsPerMinute : config.limits.submissionsPerMinute);
            },
          },
        ],
      }),
    }),
  ],
  providers: [SubmissionThrottlerGuard, UsageLimits],
  exports: [SubmissionThrottlerGuard, UsageLimits],
})
export class LimitsModule {}

import { BullModule } from '@nestjs/bullmq';
import { DynamicModule, Injectable, Module } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@archiver/config';
import type { HealthIndicator } from '@archiver/health';
import { QueueRepository } from './queue.repository';
import { QueueName } from './queue.types';
import { redisOptions, RedisRole } from './redis-options';

@Injectable()
export class RedisHealthIndicator implements HealthIndicator {
  constructor(private readonly queues: QueueRepository) {}
  check(): Promise<boolean> {
    return this.queues.ping();
  }
}

/**
 * Every queue, wired by @nestjs/bullmq: one connection setting from libs/config, each queue
 * registered once under its QueueName. Apps consume with `@Processor` classes extending
 * ArchiverProcessor, and produce through QueueRepository.
 */
@Module({})
export class QueueModule {
  /** `role`: the frontend produces and must fail fast; the injector and worker consume and wait out outages. */
  static forRoot(role: RedisRole): DynamicModule {
    const queues = BullModule.registerQueue(...Object.values(QueueName).map((name) => ({ name })));
    return {
      module: QueueModule,
      global: true,
      imports: [
        BullModule.forRootAsync({
          inject: [APP_CONFIG],
          useFactory: (config: AppConfig) => ({ connection: redisOptions(config.redis.url, role) }),
        }),
        queues,
      ],
      providers: [QueueRepository, RedisHealthIndicator],
      // The queues themselves too, for tools that take them from Nest (the frontend's bull-board).
      exports: [queues, QueueRepository, RedisHealthIndicator],
    };
  }
}

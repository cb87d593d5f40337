import { Global, Injectable, Module } from '@nestjs/common';
import type { HealthIndicator } from '@archiver/health';
import { QueueRepository } from './queue.repository';

@Injectable()
export class RedisHealthIndicator implements HealthIndicator {
  constructor(private readonly queues: QueueRepository) {}
  check(): Promise<boolean> {
    return this.queues.ping();
  }
}

@Global()
@Module({ providers: [QueueRepository, RedisHealthIndicator], exports: [QueueRepository, RedisHealthIndicator] })
export class QueueModule {}

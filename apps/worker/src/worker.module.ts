import { Module } from '@nestjs/common';
import { ConfigModule } from '@archiver/config';
import { DatabaseModule, PostgresHealthIndicator } from '@archiver/database';
import { HealthModule } from '@archiver/health';
import { QueueModule, RedisHealthIndicator } from '@archiver/queue';
import { MinioHealthIndicator, StorageModule } from '@archiver/storage';

@Module({
  imports: [
    ConfigModule,
    DatabaseModule,
    QueueModule,
    StorageModule,
    HealthModule.forApp('worker', { postgres: PostgresHealthIndicator, redis: RedisHealthIndicator, minio: MinioHealthIndicator }),
  ],
})
export class WorkerModule {}

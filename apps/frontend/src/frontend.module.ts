import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { AuthModule, KeycloakHealthIndicator } from '@archiver/auth';
import { ConfigModule } from '@archiver/config';
import { DatabaseModule, PostgresHealthIndicator } from '@archiver/database';
import { HealthModule } from '@archiver/health';
import { QueueModule, RedisHealthIndicator } from '@archiver/queue';
import { MinioHealthIndicator, StorageModule } from '@archiver/storage';
import { ApiExceptionFilter } from './api/api-exception.filter';

@Module({
  imports: [
    ConfigModule,
    DatabaseModule,
    QueueModule,
    StorageModule,
    AuthModule,
    HealthModule.forApp('frontend', {
      postgres: PostgresHealthIndicator,
      redis: RedisHealthIndicator,
      minio: MinioHealthIndicator,
      keycloak: KeycloakHealthIndicator,
    }, [AuthModule]),
  ],
  providers: [{ provide: APP_FILTER, useClass: ApiExceptionFilter }],
})
export class FrontendModule {}

import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { AuthModule, KeycloakHealthIndicator } from '@archiver/auth';
import { ConfigModule } from '@archiver/config';
import { DatabaseModule, PostgresHealthIndicator } from '@archiver/database';
import { HealthModule } from '@archiver/health';
import { LoggingModule } from '@archiver/logging';
import { MetricsModule } from '@archiver/metrics';
import { QueueModule, RedisHealthIndicator } from '@archiver/queue';
import { MinioHealthIndicator, StorageModule } from '@archiver/storage';
import { QueueBoardModule } from './admin/queue-board.module';
import { ApiExceptionFilter } from './api/api-exception.filter';
import { ArchivesModule } from './archives/archives.module';
import { AuditModule } from './audit/audit.module';
import { HooksModule } from './hooks/hooks.module';
import { ImportsModule } from './imports/imports.module';
import { LimitsModule } from './limits/limits.module';
import { RepositoriesModule } from './repositories/repositories.module';
import { StatsModule } from './stats/stats.module';
import { WebModule } from './web/web.module';
import { WebhooksModule } from './webhooks/webhooks.module';

@Module({
  imports: [
    ConfigModule,
    LoggingModule.forApp('frontend'),
    MetricsModule.forApp('frontend'),
    DatabaseModule,
    QueueModule.forRoot('producer'),
    StorageModule,
    AuthModule,
    HealthModule.forApp(
      'frontend',
      {
        postgres: PostgresHealthIndicator,
        redis: RedisHealthIndicator,
        minio: MinioHealthIndicator,
        keycloak: KeycloakHealthIndicator,
      },
      [AuthModule],
    ),
    ArchivesModule,
    RepositoriesModule,
    StatsModule,
    QueueBoardModule,
    AuditModule,
    LimitsModule,
    WebhooksModule,
    HooksModule,
    ImportsModule,
    WebModule,
  ],
  providers: [{ provide: APP_FILTER, useClass: ApiExceptionFilter }],
})
export class FrontendModule {}

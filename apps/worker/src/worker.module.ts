import { Module } from '@nestjs/common';
import { APP_CONFIG, AppConfig, ConfigModule } from '@archiver/config';
import { DatabaseModule, PostgresHealthIndicator } from '@archiver/database';
import { SafeCloner, UrlPolicy } from '@archiver/git';
import { HealthModule } from '@archiver/health';
import { QueueModule, RedisHealthIndicator } from '@archiver/queue';
import { MinioHealthIndicator, StorageModule } from '@archiver/storage';
import { ArchiveProcessor } from './archive/archive.processor';
import { SnapshotService } from './archive/snapshot.service';
import { WorkDirs } from './clone/work-dir';

@Module({
  imports: [
    ConfigModule,
    DatabaseModule,
    QueueModule.forRoot('consumer'),
    StorageModule,
    HealthModule.forApp('worker', { postgres: PostgresHealthIndicator, redis: RedisHealthIndicator, minio: MinioHealthIndicator }),
  ],
  providers: [
    {
      provide: SafeCloner,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) =>
        new SafeCloner({ policy: new UrlPolicy({ allowedHosts: config.clone.allowedHosts }), tempDir: config.clone.workDir }),
    },
    WorkDirs,
    SnapshotService,
    ArchiveProcessor,
  ],
})
export class WorkerModule {}

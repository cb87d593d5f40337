import { Global, Module } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@archiver/config';
import { MinioHealthIndicator } from './minio-health.indicator';
import { ObjectStoreRepository } from './object-store.repository';

/**
 * Provides ObjectStoreRepository built from the typed config (APP_CONFIG comes from the
 * global ConfigModule the app imports). Global like the other I/O modules, so HealthModule
 * can inject the indicator.
 */
@Global()
@Module({
  providers: [
    {
      provide: ObjectStoreRepository,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig): ObjectStoreRepository =>
        new ObjectStoreRepository({
          endpoint: config.minio.endpoint,
          accessKey: config.minio.accessKey,
          secretKey: config.minio.secretKey,
          region: config.minio.region,
        }),
    },
    MinioHealthIndicator,
  ],
  exports: [ObjectStoreRepository, MinioHealthIndicator],
})
export class StorageModule {}

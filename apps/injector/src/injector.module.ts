import { Module } from '@nestjs/common';
import { ConfigModule } from '@archiver/config';
import { DatabaseModule, PostgresHealthIndicator } from '@archiver/database';
import { HealthModule } from '@archiver/health';
import { LoggingModule } from '@archiver/logging';
import { MetricsModule } from '@archiver/metrics';
import { QueueModule, RedisHealthIndicator } from '@archiver/queue';
import { StorageModule } from '@archiver/storage';
import { InjectProcessor } from './inject/inject.processor';
import { InjectService } from './inject/inject.service';
import { ReconcileService } from './inject/reconcile.service';
import { StateMetrics } from './metrics/state-metrics';
import { PruneSweepService } from './schedule/prune-sweep.service';
import { ScheduleService } from './schedule/schedule.service';
import { VerifySampleService } from './schedule/verify-sample.service';

@Module({
  imports: [
    ConfigModule,
    LoggingModule.forApp('injector'),
    MetricsModule.forApp('injector'),
    DatabaseModule,
    QueueModule.forRoot('consumer'),
    // The reconciler removes what the last run of an archive it gives up on left in the bucket.
    StorageModule,
    HealthModule.forApp('injector', { postgres: PostgresHealthIndicator, redis: RedisHealthIndicator }),
  ],
  providers: [StateMetrics, InjectService, InjectProcessor, ReconcileService, ScheduleService, VerifySampleService, PruneSweepService],
})
export class InjectorModule {}

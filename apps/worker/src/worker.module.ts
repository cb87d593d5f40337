import { Module } from '@nestjs/common';
import { ConfigModule } from '@archiver/config';
import { CredentialsModule } from '@archiver/credentials';
import { DatabaseModule, PostgresHealthIndicator } from '@archiver/database';
import { GitModule } from '@archiver/git';
import { HealthModule } from '@archiver/health';
import { ImportsModule } from '@archiver/imports';
import { LoggingModule } from '@archiver/logging';
import { MetricsModule } from '@archiver/metrics';
import { QueueModule, RedisHealthIndicator } from '@archiver/queue';
import { MinioHealthIndicator, StorageModule } from '@archiver/storage';
import { ArchiveProcessor } from './archive/archive.processor';
import { SnapshotService } from './archive/snapshot.service';
import { BundleConsolidator } from './bundle/bundle-consolidator';
import { BundleProcessor } from './bundle/bundle.processor';
import { SnapshotRestorer } from './bundle/snapshot-restorer';
import { MirrorCache } from './clone/mirror-cache';
import { VisitCredentials } from './clone/visit-credentials';
import { LfsArchiver } from './lfs/lfs-archiver';
import { WorkDirs } from './clone/work-dir';
import { ImportProcessor } from './imports/import.processor';
import { WorkerMetrics } from './metrics/worker-metrics';
import { HostPoliteness } from './politeness/host-politeness';
import { HostSlotsRepository } from './politeness/host-slots.repository';
import { PolitenessMetrics } from './politeness/politeness-metrics';
import { ChainRebuilder } from './prune/chain-rebuilder';
import { PruneProcessor } from './prune/prune.processor';
import { PurgeProcessor } from './prune/purge.processor';
import { RepositoryPurger } from './prune/repository-purger';
import { RepositoryPruner } from './prune/repository-pruner';
import { SnapshotVerifier } from './verify/snapshot-verifier';
import { VerifyProcessor } from './verify/verify.processor';
import { VisitNotifier } from './webhooks/visit-notifier';
import { WebhookDeliveryProcessor } from './webhooks/webhook-delivery.processor';
import { WebhookDeliveryService } from './webhooks/webhook-delivery.service';

@Module({
  imports: [
    ConfigModule,
    LoggingModule.forApp('worker'),
    MetricsModule.forApp('worker'),
    DatabaseModule,
    QueueModule.forRoot('consumer'),
    StorageModule,
    GitModule,
    CredentialsModule,
    ImportsModule,
    HealthModule.forApp('worker', { postgres: PostgresHealthIndicator, redis: RedisHealthIndicator, minio: MinioHealthIndicator }),
  ],
  providers: [
    WorkDirs,
    WorkerMetrics,
    MirrorCache,
    VisitCredentials,
    LfsArchiver,
    HostSlotsRepository,
    PolitenessMetrics,
    HostPoliteness,
    SnapshotService,
    ArchiveProcessor,
    BundleConsolidator,
    BundleProcessor,
    SnapshotRestorer,
    SnapshotVerifier,
    VerifyProcessor,
    ChainRebuilder,
    RepositoryPruner,
    PruneProcessor,
    RepositoryPurger,
    PurgeProcessor,
    VisitNotifier,
    WebhookDeliveryService,
    WebhookDeliveryProcessor,
    ImportProcessor,
  ],
})
export class WorkerModule {}

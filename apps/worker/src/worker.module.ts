import { Module } from '@nestjs/common';
import { ConfigModule } from '@archiver/config';
import { DatabaseModule, PostgresHealthIndicator } from '@archiver/database';
import { GitModule } from '@archiver/git';
import { HealthModule } from '@archiver/health';
import { LoggingModule } from '@archiver/logging';
import { QueueModule, RedisHealthIndicator } from '@archiver/queue';
import { MinioHealthIndicator, StorageModule } from '@archiver/storage';
import { ArchiveProcessor } from './archive/archive.processor';
import { SnapshotService } from './archive/snapshot.service';
import { BundleConsolidator } from './bundle/bundle-consolidator';
import { BundleProcessor } from './bundle/bundle.processor';
import { SnapshotRestorer } from './bundle/snapshot-restorer';
import { MirrorCache } from './clone/mirror-cache';
import { WorkDirs } from './clone/work-dir';
import { ChainRebuilder } from './prune/chain-rebuilder';
import { PruneProcessor } from './prune/prune.processor';
import { RepositoryPruner } from './prune/repository-pruner';
import { SnapshotVerifier } from './verify/snapshot-verifier';
import { VerifyProcessor } from './verify/verify.processor';

@Module({
  imports: [
    ConfigModule,
    LoggingModule.forApp('worker'),
    DatabaseModule,
    QueueModule.forRoot('consumer'),
    StorageModule,
    GitModule,
    HealthModule.forApp('worker', { postgres: PostgresHealthIndicator, redis: RedisHealthIndicator, minio: MinioHealthIndicator }),
  ],
  providers: [
    WorkDirs,
    MirrorCache,
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
  ],
})
export class WorkerModule {}

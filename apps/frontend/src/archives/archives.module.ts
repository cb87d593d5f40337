import { Module } from '@nestjs/common';
import { CredentialsModule } from '@archiver/credentials';
import { GitModule } from '@archiver/git';
import { TrackingModule } from '@archiver/tracking';
import { RepositoryCredentialsService } from '../repositories/repository-credentials.service';
import { ArchivesController } from './archives.controller';
import { ArchiveCredentialsService } from './archive-credentials.service';
import { ArchiveRequestsService } from './archive-requests.service';
import { ArchiveFilesController } from './browse/archive-files.controller';
import { SnapshotBrowseService } from './browse/snapshot-browse.service';
import { BundleService } from './bundle.service';
import { RestoreService } from './restore.service';
import { VerifyService } from './verify.service';

/** Relies on the app's global Config, Database, Queue and Storage modules. */
@Module({
  imports: [GitModule, CredentialsModule, TrackingModule],
  controllers: [ArchivesController, ArchiveFilesController],
  providers: [
    ArchiveRequestsService,
    ArchiveCredentialsService,
    RepositoryCredentialsService,
    RestoreService,
    BundleService,
    SnapshotBrowseService,
    VerifyService,
  ],
})
export class ArchivesModule {}

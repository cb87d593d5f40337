import { Module } from '@nestjs/common';
import { GitModule } from '@archiver/git';
import { TrackingModule } from '@archiver/tracking';
import { ArchivesController } from './archives.controller';
import { ArchiveRequestsService } from './archive-requests.service';
import { ArchiveFilesController } from './browse/archive-files.controller';
import { SnapshotBrowseService } from './browse/snapshot-browse.service';
import { BundleService } from './bundle.service';
import { RestoreService } from './restore.service';
import { VerifyService } from './verify.service';

/** Relies on the app's global Config, Database, Queue and Storage modules. */
@Module({
  imports: [GitModule, TrackingModule],
  controllers: [ArchivesController, ArchiveFilesController],
  providers: [ArchiveRequestsService, RestoreService, BundleService, SnapshotBrowseService, VerifyService],
})
export class ArchivesModule {}

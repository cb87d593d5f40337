import { Module } from '@nestjs/common';
import { GitModule } from '@archiver/git';
import { ArchivesController } from './archives.controller';
import { ArchiveRequestsService } from './archive-requests.service';
import { ArchiveFilesController } from './browse/archive-files.controller';
import { SnapshotBrowseService } from './browse/snapshot-browse.service';

/** Relies on the app's global Config, Database, Queue and Storage modules. */
@Module({
  imports: [GitModule],
  controllers: [ArchivesController, ArchiveFilesController],
  providers: [ArchiveRequestsService, SnapshotBrowseService],
})
export class ArchivesModule {}

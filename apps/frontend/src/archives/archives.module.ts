import { Module } from '@nestjs/common';
import { GitModule } from '@archiver/git';
import { ArchivesController } from './archives.controller';
import { ArchiveRequestsService } from './archive-requests.service';

/** Relies on the app's global Config, Database, Queue and Storage modules. */
@Module({
  imports: [GitModule],
  controllers: [ArchivesController],
  providers: [ArchiveRequestsService],
})
export class ArchivesModule {}

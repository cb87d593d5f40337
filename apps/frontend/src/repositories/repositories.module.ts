import { Module } from '@nestjs/common';
import { CredentialsModule } from '@archiver/credentials';
import { GitModule } from '@archiver/git';
import { TrackingModule } from '@archiver/tracking';
import { ArchiveRequestsService } from '../archives/archive-requests.service';
import { RepositoriesController } from './repositories.controller';
import { RefChangesService } from './ref-changes.service';
import { RepositoriesService } from './repositories.service';
import { RepositoryCredentialsService } from './repository-credentials.service';
import { RetentionController } from './retention.controller';
import { RetentionService } from './retention.service';

/**
 * Relies on the app's global Config, Database, Queue and Storage modules. ArchiveRequestsService
 * is stateless, so providing it here (rather than exporting it from ArchivesModule) is safe.
 */
@Module({
  imports: [GitModule, CredentialsModule, TrackingModule],
  controllers: [RepositoriesController, RetentionController],
  providers: [RepositoriesService, RepositoryCredentialsService, RefChangesService, ArchiveRequestsService, RetentionService],
})
export class RepositoriesModule {}

import { Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@archiver/config';
import { UrlPolicy } from '@archiver/git';
import { ArchivesController } from './archives.controller';
import { ArchiveRequestsService } from './archive-requests.service';

/** Relies on the app's global Config, Database, Queue and Storage modules. */
@Module({
  controllers: [ArchivesController],
  providers: [
    ArchiveRequestsService,
    // The same policy the worker applies again at clone time, from the same setting.
    {
      provide: UrlPolicy,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => new UrlPolicy({ allowedHosts: config.clone.allowedHosts }),
    },
  ],
})
export class ArchivesModule {}

import { Module } from '@nestjs/common';
import { CredentialsModule } from '@archiver/credentials';
import { GitModule } from '@archiver/git';
import { ImportsController } from './imports.controller';
import { ImportsService } from './imports.service';

/** Relies on the app's global Config, Database and Queue modules; the work itself is the worker's (libs/imports). */
@Module({
  imports: [GitModule, CredentialsModule],
  controllers: [ImportsController],
  providers: [ImportsService],
})
export class ImportsModule {}

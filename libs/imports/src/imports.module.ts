import { Module } from '@nestjs/common';
import { CredentialsModule } from '@archiver/credentials';
import { GitModule } from '@archiver/git';
import { TrackingModule } from '@archiver/tracking';
import { ImportNotifier } from './import-notifier';
import { ImportRunner } from './import-runner';

/** The worker's side of imports. Relies on the app's global Config, Database and Queue modules. */
@Module({
  imports: [GitModule, CredentialsModule, TrackingModule],
  providers: [ImportRunner, ImportNotifier],
  exports: [ImportRunner],
})
export class ImportsModule {}

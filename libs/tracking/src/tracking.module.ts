import { Module } from '@nestjs/common';
import { GitModule } from '@archiver/git';
import { RepositoryTracker } from './repository-tracker';
import { TrackingLimits } from './tracking-limits';

/** Relies on the app's global Config, Database and Queue modules. */
@Module({
  imports: [GitModule],
  providers: [RepositoryTracker, TrackingLimits],
  exports: [RepositoryTracker, TrackingLimits],
})
export class TrackingModule {}

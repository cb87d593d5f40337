import { Module } from '@nestjs/common';
import { CredentialsModule } from '@archiver/credentials';
import { GitModule } from '@archiver/git';
import { TrackingModule } from '@archiver/tracking';
import { ArchiveRequestsService } from '../archives/archive-requests.service';
import { HookSecretController } from './hook-secret.controller';
import { HookSecretService } from './hook-secret.service';
import { PushHookThrottlerGuard } from './push-hook-throttler.guard';
import { PushHooksController } from './push-hooks.controller';
import { PushHooksService } from './push-hooks.service';

/**
 * Push webhooks in (POST /api/hooks/push/:repositoryId) and the repositories' hook secrets.
 * ArchiveRequestsService is stateless (see RepositoriesModule); the throttler's storage comes
 * from the global LimitsModule.
 */
@Module({
  imports: [GitModule, CredentialsModule, TrackingModule],
  controllers: [PushHooksController, HookSecretController],
  providers: [PushHooksService, HookSecretService, PushHookThrottlerGuard, ArchiveRequestsService],
})
export class HooksModule {}

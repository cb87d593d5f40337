import { Module } from '@nestjs/common';
import { CredentialsModule } from '@archiver/credentials';
import { GitModule } from '@archiver/git';
import { WebhooksController } from './webhooks.controller';
import { WebhooksService } from './webhooks.service';

/** Notification endpoints (/api/webhooks); the worker sends the deliveries. Relies on the app's global Database and Queue modules. */
@Module({
  imports: [GitModule, CredentialsModule],
  controllers: [WebhooksController],
  providers: [WebhooksService],
})
export class WebhooksModule {}

import { Processor } from '@nestjs/bullmq';
import { Inject } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@archiver/config';
import { ArchiverProcessor, JobContext, JobPayload, QueueName, workerOptions } from '@archiver/queue';
import { WebhookDeliveryService } from './webhook-delivery.service';

/** Deliveries wait on other people's servers (up to the timeout each), not on this host: several at once. */
@Processor(QueueName.WebhookDelivery, workerOptions((config) => ({ ...config.worker, concurrency: 8 })))
export class WebhookDeliveryProcessor extends ArchiverProcessor<QueueName.WebhookDelivery> {
  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly deliveries: WebhookDeliveryService,
  ) {
    super(config.worker.lockMs);
  }

  protected handle({ deliveryId }: JobPayload<QueueName.WebhookDelivery>, context: JobContext): Promise<void> {
    return this.deliveries.deliver(deliveryId, context);
  }
}

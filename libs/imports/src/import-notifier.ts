import { Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { type ImportRecord, WebhookRepository } from '@archiver/database';
import { QueueName, QueueRepository } from '@archiver/queue';
import { buildBody, serializeBody } from '@archiver/webhooks';
import type { ImportCounts } from './import.contract';

const EVENT = 'import.finished';

/**
 * Sends `import.finished` to the requester's endpoints (and admins' all-repositories ones): one
 * webhook_delivery row each with the exact body, then a delivery job per row. The import is
 * settled already, so a failure here is logged and never fails it.
 */
@Injectable()
export class ImportNotifier {
  private readonly logger = new Logger(ImportNotifier.name);

  constructor(
    private readonly webhooks: WebhookRepository,
    private readonly queues: QueueRepository,
  ) {}

  async importFinished(record: ImportRecord, state: 'completed' | 'failed', counts: ImportCounts, errorCode: string | null): Promise<void> {
    try {
      const endpoints = await this.webhooks.ownerSubscribers(record.requestedBy, EVENT);
      if (endpoints.length === 0) return;
      const body = serializeBody(
        buildBody({
          id: randomUUID(),
          event: EVENT,
          createdAt: new Date(),
          repository: null,
          details: {
            importId: record.id,
            source: `${record.forge}:${record.baseUrl.replace(/\/+$/, '')}/${record.owner}`,
            state,
            total: counts.total,
            tracked: counts.tracked + counts.already_tracked,
            failed: counts.failed,
            errorCode,
          },
        }),
      );
      const ids = await this.webhooks.createDeliveries(
        endpoints.map((endpoint) => ({ endpointId: endpoint.id, event: EVENT, repositoryId: null, archiveId: null, body })),
      );
      for (const deliveryId of ids) await this.queues.enqueue(QueueName.WebhookDelivery, { deliveryId });
      this.logger.log({ msg: 'notifications queued', event: EVENT, importId: record.id, deliveries: ids.length });
    } catch (error) {
      this.logger.error({
        msg: 'could not queue the notifications of a finished import',
        importId: record.id,
        error: (error as Error).message,
      });
    }
  }
}

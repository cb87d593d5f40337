import { Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import {
  type ArchiveRecord,
  RefChangeRepository,
  type TrackedRepositoryRecord,
  type VisitResult,
  WebhookRepository,
} from '@archiver/database';
import { QueueName, QueueRepository } from '@archiver/queue';
import { buildBody, type DerivedEvent, deriveVisitEvents, serializeBody, type WebhookArchive } from '@archiver/webhooks';

/**
 * Turns a settled visit into notifications: derives its events (libs/webhooks), writes one
 * webhook_delivery row per subscribed endpoint with the exact body to send, and queues a job
 * per row (QueueName.WebhookDelivery). The visit is settled already, so a failure here is
 * logged and never fails it; rows written before a queue outage stay visible as pending.
 */
@Injectable()
export class VisitNotifier {
  private readonly logger = new Logger(VisitNotifier.name);

  constructor(
    private readonly webhooks: WebhookRepository,
    private readonly refChanges: RefChangeRepository,
    private readonly queues: QueueRepository,
  ) {}

  async visitSettled(archive: ArchiveRecord, result: VisitResult, repository: TrackedRepositoryRecord | null): Promise<void> {
    try {
      const finishedAt = archive.finishedAt ?? new Date();
      const [refChanges, previous] = await Promise.all([
        result.kind === 'completed' ? this.refChanges.findChanges([archive.id]) : Promise.resolve([]),
        this.webhooks.previousSettledVisit(archive.repositoryId, archive.id, finishedAt),
      ]);
      const events = deriveVisitEvents({ result, repository, previous, refChanges });
      const view = archiveView(archive, result, finishedAt);
      for (const event of events) await this.fanOut(event, { id: archive.repositoryId, url: repository?.url ?? archive.url }, view);
    } catch (error) {
      this.logger.error({
        msg: 'could not queue the notifications of a settled visit',
        archiveId: archive.id,
        error: (error as Error).message,
      });
    }
  }

  private async fanOut(derived: DerivedEvent, repository: { id: string; url: string }, archive: WebhookArchive): Promise<void> {
    const endpoints = await this.webhooks.subscribers(repository.id, derived.event);
    if (endpoints.length === 0) return;
    const body = serializeBody(
      buildBody({ id: randomUUID(), event: derived.event, createdAt: new Date(), repository, archive, details: derived.details }),
    );
    const ids = await this.webhooks.createDeliveries(
      endpoints.map((endpoint) => ({
        endpointId: endpoint.id,
        event: derived.event,
        repositoryId: repository.id,
        archiveId: archive.id,
        body,
      })),
    );
    for (const deliveryId of ids) await this.queues.enqueue(QueueName.WebhookDelivery, { deliveryId });
    this.logger.log({ msg: 'notifications queued', event: derived.event, deliveries: ids.length });
  }
}

function archiveView(archive: ArchiveRecord, result: VisitResult, finishedAt: Date): WebhookArchive {
  return {
    id: archive.id,
    status: result.kind,
    outcome: result.kind === 'completed' ? result.outcome : null,
    commit: result.kind === 'completed' ? archive.commit : null,
    errorCode: result.kind === 'failed' ? result.code : null,
    finishedAt: finishedAt.toISOString(),
  };
}

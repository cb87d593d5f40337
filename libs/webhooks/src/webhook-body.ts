import type { DeliveredEvent, WebhookArchive, WebhookBody } from './webhook-events';

/** The fields every event's body shares, in a fixed order (the signature is over the bytes). */
export function buildBody(input: {
  id: string;
  event: DeliveredEvent;
  createdAt: Date;
  repository: { id: string; url: string } | null;
  archive?: WebhookArchive;
  details: Record<string, unknown>;
}): WebhookBody {
  return {
    id: input.id,
    event: input.event,
    createdAt: input.createdAt.toISOString(),
    repository: input.repository,
    ...(input.archive && { archive: input.archive }),
    details: input.details,
  };
}

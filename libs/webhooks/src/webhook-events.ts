/**
 * What endpoints can subscribe to. Never rename one: endpoints store these names, and
 * receivers match on them (the `X-Archiver-Event` header and the body's `event`).
 */
export const WEBHOOK_EVENTS = [
  'visit.failed',
  'repository.disabled',
  'refs.force_pushed',
  'refs.branch_deleted',
  'repository.recovered',
  'import.finished',
] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

/** Sent only by POST /api/webhooks/:id/test, whatever the endpoint subscribes to. */
export const PING_EVENT = 'ping';
export type DeliveredEvent = WebhookEvent | typeof PING_EVENT;

/** The visit an event is about, as the body shows it. */
export interface WebhookArchive {
  id: string;
  status: string;
  outcome: string | null;
  commit: string | null;
  errorCode: string | null;
  finishedAt: string | null;
}

/**
 * The JSON body of every delivery. `id` is the event's: one event sent to several endpoints
 * carries the same id (receivers may dedupe on it); `X-Archiver-Delivery` names the delivery.
 *
 * `details` per event:
 * - `visit.failed`: `{ code, message }` (the archive's error code and message)
 * - `repository.disabled`: `{ reason, code }` (why the scheduler stopped visiting it)
 * - `refs.force_pushed`: `{ refs: [{ name, oldSha, newSha }] }` (non-fast-forward moves)
 * - `refs.branch_deleted`: `{ refs: [{ name, oldSha }] }`
 * - `repository.recovered`: `{ outcome, previousErrorCode }` (a success after failed visits)
 * - `import.finished`: `{ importId, source, state, total, tracked, failed, errorCode }` (an
 *   organization import settled, libs/imports; `source` is `forge:baseUrl/owner`; `repository` is null)
 * - `ping`: `{ endpointId }`
 */
export interface WebhookBody {
  id: string;
  event: DeliveredEvent;
  createdAt: string;
  repository: { id: string; url: string } | null;
  archive?: WebhookArchive;
  details: Record<string, unknown>;
}

/** One event, before it is addressed to endpoints. */
export interface DerivedEvent {
  event: WebhookEvent;
  details: Record<string, unknown>;
}

/** The exact bytes sent (and signed): serialised once, stored, and resent unchanged on every retry. */
export function serializeBody(body: WebhookBody): string {
  return JSON.stringify(body);
}

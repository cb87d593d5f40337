import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

export const REQUEST_ID_HEADER = 'x-request-id';

/**
 * An id a proxy or client chose is kept so one id follows the request across services; it
 * goes into every log line and a response header, so only short ids of a plain charset are
 * taken (no spaces, quotes, control characters or header/log injection).
 */
const ACCEPTABLE_REQUEST_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** The incoming id when it is acceptable, else undefined. A repeated header arrives joined by ", " and is refused. */
export function acceptRequestId(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' && ACCEPTABLE_REQUEST_ID.test(value) ? value : undefined;
}

/** pino-http's `genReqId`: the caller's acceptable id or a new UUID, echoed in the response. */
export function assignRequestId(req: IncomingMessage, res: ServerResponse): string {
  const id = acceptRequestId(req.headers[REQUEST_ID_HEADER]) ?? randomUUID();
  res.setHeader(REQUEST_ID_HEADER, id);
  return id;
}

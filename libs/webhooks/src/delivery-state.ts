/** A delivery row's progress (webhook_delivery). */
export interface DeliveryProgress {
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  finishedAt: Date | null;
}

/** What one attempt got back. `permanent`: retrying cannot help (e.g. the URL is now refused by policy). */
export type AttemptOutcome =
  { ok: true; statusCode: number } | { ok: false; statusCode: number | null; error: string; permanent?: boolean };

/**
 * The delivery state machine: pending --2xx--> delivered; pending --failure--> pending (retried)
 * or, on the last attempt or a permanent failure, failed. Delivered and failed are final: a
 * late attempt (a duplicate job) changes nothing. Only a 2xx answer ever makes it delivered.
 */
export function afterAttempt(
  current: Pick<DeliveryProgress, 'status' | 'attempts'>,
  outcome: AttemptOutcome,
  lastAttempt: boolean,
  at: Date,
): { next: DeliveryProgress; retry: boolean } | null {
  if (current.status !== 'pending') return null;
  const attempts = current.attempts + 1;
  if (outcome.ok) {
    if (outcome.statusCode < 200 || outcome.statusCode > 299) throw new RangeError(`HTTP ${outcome.statusCode} is not a success`);
    return { next: { status: 'delivered', attempts, lastStatusCode: outcome.statusCode, lastError: null, finishedAt: at }, retry: false };
  }
  const final = lastAttempt || outcome.permanent === true;
  return {
    next: {
      status: final ? 'failed' : 'pending',
      attempts,
      lastStatusCode: outcome.statusCode,
      lastError: outcome.error,
      finishedAt: final ? at : null,
    },
    retry: !final,
  };
}

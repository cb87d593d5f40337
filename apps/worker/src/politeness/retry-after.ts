/** Longest Retry-After text looked at; anything longer is not a valid value. */
const MAX_HEADER_LENGTH = 100;

/**
 * How long a server's `Retry-After` asks us to wait, in milliseconds, capped at `maxMs`: either
 * delay-seconds (`120`) or an HTTP-date (`Wed, 21 Oct 2026 07:28:00 GMT`) relative to `now`.
 * Null when there is no usable value (absent, garbage, negative): the caller then falls back to
 * its own schedule. A date in the past asks for no wait (0).
 */
export function parseRetryAfter(value: string | undefined, now: Date, maxMs: number): number | null {
  const text = value?.trim();
  if (!text || text.length > MAX_HEADER_LENGTH) return null;
  if (/^\d+$/.test(text)) return Math.min(Number(text) * 1000, maxMs);
  // Only the date forms HTTP allows (IMF-fixdate and the two obsolete ones) name a weekday; a
  // bare number with a sign or a fraction is not a date Date.parse should guess at.
  if (!/^[A-Za-z]{3,9},? /.test(text)) return null;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return null;
  return Math.min(Math.max(0, at - now.getTime()), maxMs);
}

/** The default backoff when a host does not say how long: min, 2·min, 4·min… capped at max (`level` 0 first). */
export function defaultBackoffMs(level: number, minMs: number, maxMs: number): number {
  return Math.min(maxMs, minMs * 2 ** Math.min(Math.max(0, level), 30));
}

/**
 * The queue dashboard's credential: the admin's own Keycloak access token, in a cookie only the
 * dashboard's paths receive. bull-board's page and its API calls are plain browser requests that
 * cannot carry the SPA's bearer header, so the SPA hands its token over once
 * (POST /api/admin/queue-board/session) and the browser sends it back on each request.
 * HttpOnly (no script reads it), SameSite=Strict (no other site's page makes the browser send
 * it: bull-board's retry/clean actions cannot be forged), and it lives no longer than the token
 * (realm: 5 minutes), so no secret of ours is minted and nothing is stored on the server.
 */
export const QUEUE_BOARD_ROUTE = '/admin/queues';
export const QUEUE_BOARD_COOKIE = 'archiver_queue_board';

export function boardCookie(token: string, maxAgeSeconds: number, secure: boolean): string {
  const attributes = [`Path=${QUEUE_BOARD_ROUTE}`, 'HttpOnly', 'SameSite=Strict', `Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}`];
  if (secure) attributes.push('Secure');
  return [`${QUEUE_BOARD_COOKIE}=${token}`, ...attributes].join('; ');
}

/** The token in a Cookie header, or undefined. A JWT holds only cookie-safe characters. */
export function boardTokenFrom(cookieHeader: string | undefined): string | undefined {
  if (!cookieHeader) return undefined;
  for (const part of cookieHeader.split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === QUEUE_BOARD_COOKIE) return value.join('=') || undefined;
  }
  return undefined;
}

/** Seconds until the token's `exp` (already verified by the caller); 0 when it has none. */
export function secondsLeft(token: string, now = Date.now()): number {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof payload.exp === 'number' ? Math.max(0, payload.exp - Math.floor(now / 1000)) : 0;
  } catch {
    return 0;
  }
}

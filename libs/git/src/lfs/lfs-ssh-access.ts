import { sendableHeaders } from './lfs-batch';
import { LfsMissingCode, type LfsMissingReason } from './lfs-missing';

/** What `git-lfs-authenticate <path> download` granted: the LFS API to use and what to send it. */
export interface LfsSshAccess {
  /** The LFS API base (`href`, no trailing `/`); vetted by the URL policy like any LFS address when used. */
  readonly endpoint: string;
  /** Headers (typically Authorization) for the endpoint's own origin only. */
  readonly header: Readonly<Record<string, string>>;
  /** When the server said the header stops working (ms since the epoch), if it said. */
  readonly expiresAt?: number;
}

export type LfsSshAccessResult = LfsSshAccess | { readonly missing: LfsMissingReason };

/** Far more than any forge's answer (an href and a token); a server sending more is not answering the question. */
export const MAX_LFS_AUTHENTICATE_ANSWER_BYTES = 64 * 1024;

const WHAT = 'git-lfs-authenticate';

function invalid(message: string): { missing: LfsMissingReason } {
  return { missing: { code: LfsMissingCode.INVALID_ANSWER, message: `${WHAT} ${message}` } };
}

/**
 * The JSON that `git-lfs-authenticate` prints (`{href, header?, expires_in?, expires_at?}`, as
 * git-lfs reads it), checked strictly: an absolute http(s) href without credentials, query or
 * fragment; headers that can be sent as they are; not expired at `now` (`expires_in`, seconds
 * from now, wins over `expires_at`, as in git-lfs). Anything else is a reason, never a throw.
 */
export function parseLfsAuthenticateAnswer(stdout: Buffer, now: number): LfsSshAccessResult {
  if (stdout.length > MAX_LFS_AUTHENTICATE_ANSWER_BYTES) {
    return invalid(`answered more than ${MAX_LFS_AUTHENTICATE_ANSWER_BYTES} bytes`);
  }
  const text = new TextDecoder('utf-8', { fatal: false }).decode(stdout);
  if (text.includes('\ufffd')) return invalid('answered bytes that are not UTF-8');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return invalid(text.trim() === '' ? 'answered nothing' : 'answered something that is not JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return invalid('answered JSON that is not an object');
  const answer = body as Record<string, unknown>;

  if (typeof answer.href !== 'string') return invalid('answered no "href"');
  let href: URL;
  try {
    href = new URL(answer.href);
  } catch {
    return invalid('answered an "href" that is not an absolute URL');
  }
  if (href.protocol !== 'https:' && href.protocol !== 'http:') {
    return invalid(`answered an "href" of scheme ${href.protocol}; only http(s) LFS servers are fetched from`);
  }
  if (href.username !== '' || href.password !== '') return invalid('answered an "href" with a user name or password');
  if (href.search !== '' || href.hash !== '') return invalid('answered an "href" with a query or fragment');

  const header = sendableHeaders(answer.header);
  if ('refused' in header) return invalid(`answer${header.refused}`);

  const expiresAt = expiryOf(answer, now);
  if (typeof expiresAt === 'string') return invalid(expiresAt);
  if (expiresAt !== undefined && expiresAt <= now) {
    return invalid(`answered a credential that had already expired (at ${new Date(expiresAt).toISOString()})`);
  }
  return {
    endpoint: href.href.replace(/\/+$/, ''),
    header: header.header,
    ...(expiresAt !== undefined && { expiresAt }),
  };
}

/** The expiry in ms since the epoch, undefined when none is given, or why it cannot be read. */
function expiryOf(answer: Record<string, unknown>, now: number): number | string | undefined {
  if (answer.expires_in !== undefined) {
    if (typeof answer.expires_in !== 'number' || !Number.isFinite(answer.expires_in))
      return 'answered an "expires_in" that is not a number';
    return now + answer.expires_in * 1000;
  }
  if (answer.expires_at !== undefined) {
    const at = typeof answer.expires_at === 'string' ? Date.parse(answer.expires_at) : Number.NaN;
    if (Number.isNaN(at)) return 'answered an "expires_at" that is not a date';
    return at;
  }
  return undefined;
}

/** What the server wrote to stderr, as one short line of plain text for a message. */
export function serverWords(stderr: string): string {
  const words = stderr
    .split(/\r?\n/)
    .map((line) => line.replace(/^(error|fatal|gitea):\s*/i, '').trim())
    .filter((line) => line !== '')
    .join('; ')
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
  return words === '' ? 'no message' : words.slice(0, 200);
}

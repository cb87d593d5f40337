import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header of our outgoing deliveries; the value is `sha256=<hex HMAC-SHA256 of the body>`. */
export const SIGNATURE_HEADER = 'X-Archiver-Signature-256';

export function hmacHex(secret: string, body: Buffer | string): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

/** The value of SIGNATURE_HEADER for these exact body bytes. */
export function signatureOf(secret: string, body: Buffer | string): string {
  return `sha256=${hmacHex(secret, body)}`;
}

/** Which forge's scheme proved a push hook authentic. */
export type PushHookScheme = 'github' | 'gitea' | 'gitlab';

type Headers = Record<string, string | string[] | undefined>;

const HEX_SHA256 = /^[0-9a-f]{64}$/;

/**
 * Checks a push hook against the repository's secret by each forge's own scheme, over the raw
 * body bytes: GitHub `X-Hub-Signature-256: sha256=<hex>`, Gitea `X-Gitea-Signature: <hex>`
 * (both HMAC-SHA256 of the body), GitLab `X-Gitlab-Token: <secret>` (the secret itself). The
 * hex must be exactly as the forges send it (64 lowercase digits, GitHub's `sha256=` prefix);
 * anything else fails. Comparisons take constant time. Returns the scheme that matched, or null.
 */
export function verifyPushHook(headers: Headers, rawBody: Buffer, secret: string): PushHookScheme | null {
  const expected = Buffer.from(hmacHex(secret, rawBody), 'utf8');
  const github = single(headers['x-hub-signature-256']);
  if (github !== undefined && github.startsWith('sha256=') && hexMatches(github.slice('sha256='.length), expected)) return 'github';
  const gitea = single(headers['x-gitea-signature']);
  if (gitea !== undefined && hexMatches(gitea, expected)) return 'gitea';
  const gitlab = single(headers['x-gitlab-token']);
  if (gitlab !== undefined && gitlab.length > 0 && sameBytes(Buffer.from(gitlab, 'utf8'), Buffer.from(secret, 'utf8'))) return 'gitlab';
  return null;
}

function hexMatches(candidate: string, expected: Buffer): boolean {
  return HEX_SHA256.test(candidate) && sameBytes(Buffer.from(candidate, 'utf8'), expected);
}

/** timingSafeEqual needs equal lengths; hashing both first hides the secret's length too. */
function sameBytes(a: Buffer, b: Buffer): boolean {
  const digest = (value: Buffer) => createHmac('sha256', 'archiver-compare').update(value).digest();
  return timingSafeEqual(digest(a), digest(b)) && a.length === b.length;
}

/** A header sent twice is ambiguous: refuse it rather than pick one. */
function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? undefined : value;
}

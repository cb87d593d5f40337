import { GitError, GitErrorCode, type UrlPolicy } from '@archiver/git';
import type { VettedTarget } from './webhook-sender';

const MAX_WEBHOOK_URL_LENGTH = 2048;

/**
 * Vets a webhook URL with the clones' own policy (scheme, syntax, every address the host
 * resolves to; loopback and private networks only when allowlisted). Unlike a repository URL
 * it may carry a query (receivers often put a token there); the policy sees the URL without it.
 * Returns the addresses to connect to: sending must not resolve the name again.
 */
export function vetWebhookUrl(policy: UrlPolicy, input: string): Promise<VettedTarget> {
  return vetRequestUrl(policy, input, 'webhook URL');
}

/** The same vetting for any URL this service sends requests to (a forge's API for imports); `what` names it in errors. */
export async function vetRequestUrl(policy: UrlPolicy, input: string, what: string): Promise<VettedTarget> {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new GitError(GitErrorCode.INVALID_URL, `Invalid ${what} ${JSON.stringify(input.slice(0, 200))}: it is not a well-formed URL`);
  }
  if (input.length > MAX_WEBHOOK_URL_LENGTH) {
    throw new GitError(GitErrorCode.INVALID_URL, `Invalid ${what}: it is longer than ${MAX_WEBHOOK_URL_LENGTH} characters`);
  }
  if (url.hash !== '') throw new GitError(GitErrorCode.INVALID_URL, `Invalid ${what}: it must not contain a fragment (#…)`);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new GitError(GitErrorCode.INVALID_URL, `Invalid ${what}: it must start with https:// or http:// (got "${url.protocol}")`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new GitError(GitErrorCode.INVALID_URL, `Invalid ${what}: it must not contain a user name or password`);
  }
  const vetted = await policy.check(`${url.protocol}//${url.host}${url.pathname}`);
  return { url, addresses: vetted.addresses };
}

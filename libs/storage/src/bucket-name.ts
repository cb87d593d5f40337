import { createHash } from 'node:crypto';
import { domainToUnicode } from 'node:url';
import { StorageError, StorageErrorCode } from './storage.error';

const MAX_BUCKET_LENGTH = 63;
// 32 bits: only URLs whose readable part is identical rely on it, so collisions stay negligible.
const HASH_LENGTH = 8;
const MAX_SLUG_LENGTH = MAX_BUCKET_LENGTH - HASH_LENGTH - 1;
// When host + path is too long, keep the start of the host and the END of the path: the
// repository name is what people look for in the console, the middle of a group path is not.
const MAX_HOST_LENGTH_WHEN_SHORTENED = 20;
const FALLBACK_SLUG = 'repo';

// AWS reserves these (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html);
// MinIO is more lenient, but names must stay valid if the data ever moves to S3.
const RESERVED_PREFIXES = ['xn--', 'sthree-', 'amzn-s3-demo-'];
const RESERVED_SUFFIXES = ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3'];

/**
 * The bucket that holds every snapshot of one repository, e.g.
 * `https://github.com/Owner/Repo.git` → `github-com-owner-repo-1a2b3c4d`.
 *
 * Readable part: host and path lower-cased, accents folded, anything else collapsed to `-`.
 * The hash covers the exact normalized URL, so the name is stable across snapshots and
 * URLs that slug the same (`a_b` vs `a-b`, case, non-Latin names) still get distinct buckets.
 */
export function bucketNameFor(normalizedUrl: string): string {
  if (!normalizedUrl.trim()) {
    throw new StorageError(StorageErrorCode.INVALID, 'Cannot name a bucket for an empty repository URL');
  }
  const { host, path } = splitUrl(normalizedUrl);
  const hostSlug = slugify(host);
  const pathSlug = slugify(path.replace(/\/+$/, '').replace(/\.git$/i, ''));

  let slug = joinSlugs(hostSlug, pathSlug);
  if (slug.length > MAX_SLUG_LENGTH) slug = shorten(hostSlug, pathSlug);
  if (!slug) slug = FALLBACK_SLUG;
  if (RESERVED_PREFIXES.some((prefix) => slug.startsWith(prefix))) {
    slug = trimHyphens(`${FALLBACK_SLUG}-${slug}`.slice(0, MAX_SLUG_LENGTH));
  }

  const hash = createHash('sha256').update(normalizedUrl, 'utf8').digest('hex').slice(0, HASH_LENGTH);
  return `${slug}-${hash}`;
}

/** S3's bucket naming rules (the general-purpose bucket rules, which MinIO also enforces). */
export function isValidBucketName(name: string): boolean {
  if (name.length < 3 || name.length > MAX_BUCKET_LENGTH) return false;
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name)) return false;
  if (name.includes('..') || name.includes('.-') || name.includes('-.')) return false;
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(name)) return false;
  if (RESERVED_PREFIXES.some((prefix) => name.startsWith(prefix))) return false;
  return !RESERVED_SUFFIXES.some((suffix) => name.endsWith(suffix));
}

function splitUrl(value: string): { host: string; path: string } {
  const url = tryParseUrl(value);
  if (url) {
    // WHATWG URLs turn international hosts into punycode (`xn--…`); fold the readable form instead.
    const hostname = domainToUnicode(url.hostname) || url.hostname;
    return { host: url.port ? `${hostname}-${url.port}` : hostname, path: safeDecode(url.pathname) };
  }
  // scp-like syntax: `git@host:owner/repo.git`.
  const scp = /^(?:[^@/]+@)?([^:/]+):(.*)$/.exec(value);
  if (scp) return { host: scp[1], path: scp[2] };
  return { host: '', path: value };
}

function tryParseUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

function safeDecode(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

function slugify(text: string): string {
  return trimHyphens(
    text
      .normalize('NFKD')
      .replace(/\p{M}/gu, '')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-'),
  );
}

function shorten(hostSlug: string, pathSlug: string): string {
  const head = trimHyphens(hostSlug.slice(0, MAX_HOST_LENGTH_WHEN_SHORTENED));
  const room = head ? MAX_SLUG_LENGTH - head.length - 1 : MAX_SLUG_LENGTH;
  return joinSlugs(head, trimHyphens(pathSlug.slice(-room)));
}

function joinSlugs(...parts: string[]): string {
  return parts.filter(Boolean).join('-');
}

function trimHyphens(text: string): string {
  return text.replace(/^-+|-+$/g, '');
}

import { lookup } from 'mime-types';

export const OCTET_STREAM = 'application/octet-stream';

/**
 * Types that a browser runs or renders as a document. The bytes come from repositories nobody
 * vetted; served with these types from the object store's origin (a presigned link, the
 * console's preview) they would be a page of the attacker's choosing, so they are stored as
 * plain text: still previewable, never executed.
 */
const ACTIVE =
  /^(text\/html|application\/xhtml\+xml|image\/svg\+xml|text\/xml|application\/xml|text\/javascript|application\/javascript|application\/ecmascript|text\/ecmascript|application\/x-httpd-php)$/;

/** Extensions mime-db gives a type that is wrong for source code (`.ts` is MPEG transport stream there). */
const SOURCE_CODE = new Set(['ts', 'tsx', 'mts', 'cts']);

/** The media type a file's name suggests (mime-db via mime-types; source code as text); null when unknown. */
export function mediaTypeOf(path: string): string | null {
  const name = path.slice(path.lastIndexOf('/') + 1);
  const extension = name.includes('.') ? name.slice(name.lastIndexOf('.') + 1).toLowerCase() : '';
  if (SOURCE_CODE.has(extension)) return 'text/plain';
  return lookup(name) || null;
}

/**
 * The Content-Type a stored file gets, so the console and browsers preview it: `text/markdown`,
 * `text/plain`, `image/png`... Unknown names and symlinks (their content is a path, not the
 * named kind of file) are `application/octet-stream`; active types are stored as text (above).
 */
export function contentTypeFor(path: string, mode?: string): string {
  if (mode === '120000') return OCTET_STREAM;
  const type = mediaTypeOf(path);
  if (type === null) return OCTET_STREAM;
  return ACTIVE.test(type) ? 'text/plain' : type;
}

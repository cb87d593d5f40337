import { mediaTypeOf } from '@archiver/storage';

export interface FileResponseHeaders {
  'Content-Type': string;
  'Content-Disposition': string;
}

const OCTET_STREAM = 'application/octet-stream';

/**
 * Types a browser shows without running anything: plain text and raster images. Everything
 * else — HTML, SVG, XML, PDF, scripts — is sent as an attachment, so a hostile file in an
 * archived repository is downloaded, never rendered on the app's origin.
 */
const INLINE_TYPES = new Set([
  'text/plain',
  'text/markdown',
  'text/csv',
  'application/json',
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'image/avif',
  'image/bmp',
]);

/** The type a file's name suggests (its bytes are never sniffed); a symlink's content is its target path. */
export function contentTypeFor(name: string, type: 'file' | 'executable' | 'symlink'): string {
  if (type === 'symlink') return 'text/plain';
  return mediaTypeOf(name) ?? OCTET_STREAM;
}

/** Content-Type and Content-Disposition for a file named `name` (its last path segment). */
export function fileResponseHeaders(name: string, type: 'file' | 'executable' | 'symlink'): FileResponseHeaders {
  const mediaType = contentTypeFor(name, type);
  const inline = INLINE_TYPES.has(mediaType);
  const textual = mediaType.startsWith('text/') || mediaType === 'application/json';
  return {
    'Content-Type': textual ? `${mediaType}; charset=utf-8` : mediaType,
    'Content-Disposition': contentDisposition(inline ? 'inline' : 'attachment', name),
  };
}

/**
 * Headers on every file answer: the file is data, never a document of this app. `sandbox`
 * gives a file opened directly a unique opaque origin with scripts off, so even a browser
 * that rendered it could not reach the app's storage or API; nosniff stops a browser from
 * second-guessing the type.
 */
export const FILE_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'",
  'X-Content-Type-Options': 'nosniff',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Referrer-Policy': 'no-referrer',
};

/** RFC 6266: an ASCII fallback and the exact name as UTF-8 (`filename*`). */
function contentDisposition(kind: 'inline' | 'attachment', name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  const exact = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${kind}; filename="${fallback}"; filename*=UTF-8''${exact}`;
}

import { ApiError } from '../../api/api.error';

/** Longer than any path git or a file system accepts (PATH_MAX is 4096). */
export const MAX_BROWSE_PATH_BYTES = 4096;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const NUL = 0x00;
const SLASH = 0x2f;

/** A path inside a snapshot as the client sent it: text (`path`) or exact bytes (`pathBase64`). */
export interface BrowsePathQuery {
  path?: unknown;
  pathBase64?: unknown;
}

/**
 * The exact bytes of the path a request names. Names in git are bytes: `pathBase64` reaches
 * names that are not UTF-8 (the tree answer gives `nameBase64` for those). One leading and one
 * trailing `/` are ignored, so `docs/`, `/docs` and `docs` name the same directory.
 */
export function browsePathOf(query: BrowsePathQuery, fromUrl?: Buffer): Buffer {
  const given = [query.path, query.pathBase64, fromUrl].filter((value) => value !== undefined);
  if (given.length > 1) throw malformed('name the path once: in the address, as path= or as pathBase64=');
  let bytes: Buffer;
  if (fromUrl !== undefined) bytes = fromUrl;
  else if (query.pathBase64 !== undefined) bytes = decodeBase64(query.pathBase64);
  else if (query.path === undefined) bytes = Buffer.alloc(0);
  else if (typeof query.path === 'string') bytes = Buffer.from(query.path, 'utf8');
  else throw malformed('path must be given once, as text');
  return normalized(bytes);
}

/**
 * The bytes a request path names after `/files/`, percent-decoded byte by byte: `%FF` is the
 * byte 0xFF, not an error, so a non-UTF-8 name works in the address too.
 */
export function percentDecodedBytes(raw: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const char = raw.charCodeAt(i);
    if (char === 0x25 /* % */) {
      const hex = raw.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) throw malformed(`"%${hex}" is not a percent-encoded byte`);
      out.push(parseInt(hex, 16));
      i += 2;
    } else if (char < 0x80) {
      out.push(char);
    } else {
      out.push(...Buffer.from(raw[i], 'utf8'));
    }
  }
  return Buffer.from(out);
}

function decodeBase64(value: unknown): Buffer {
  if (typeof value !== 'string' || !BASE64.test(value)) {
    throw malformed('pathBase64 must be the standard base64 of the path bytes (as a listing’s nameBase64 gives them)');
  }
  return Buffer.from(value, 'base64');
}

function normalized(bytes: Buffer): Buffer {
  const start = bytes[0] === SLASH ? 1 : 0;
  let end = bytes.length > start && bytes[bytes.length - 1] === SLASH ? bytes.length - 1 : bytes.length;
  if (end < start) end = start;
  const path = bytes.subarray(start, end);
  if (path.length > MAX_BROWSE_PATH_BYTES) throw malformed(`the path is longer than ${MAX_BROWSE_PATH_BYTES} bytes`);
  if (path.includes(NUL)) throw malformed('the path contains a NUL byte, which no git name can');
  for (let i = 0; i < path.length; i++) {
    if (path[i] === SLASH && (i === 0 || path[i - 1] === SLASH || i === path.length - 1)) {
      throw malformed('the path has an empty segment ("//"); name directories as a/b/c');
    }
  }
  return path;
}

function malformed(why: string): ApiError {
  return ApiError.invalidRequest(`Malformed path: ${why}`);
}

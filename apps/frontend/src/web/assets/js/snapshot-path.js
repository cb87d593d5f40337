// Paths inside a snapshot are bytes (git names need not be UTF-8). The page keeps them as
// Uint8Array and turns them into addresses: readable `/files/a/b` when the bytes are UTF-8,
// `?pathBase64=` otherwise (the server's router decodes addresses as UTF-8).

const SLASH = 0x2f;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

export const EMPTY_PATH = new Uint8Array(0);

export function textBytes(text) {
  return encoder.encode(text);
}

/** The text of `bytes` if they are UTF-8, else null. */
export function utf8OrNull(bytes) {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return null;
  }
}

/** For people: invalid bytes shown as U+FFFD. */
export function displayText(bytes) {
  return new TextDecoder().decode(bytes);
}

export function toBase64(bytes) {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

export function fromBase64(text) {
  return Uint8Array.from(atob(text), (char) => char.charCodeAt(0));
}

/** A listing entry's exact name bytes. */
export function entryNameBytes(entry) {
  return entry.nameBase64 !== undefined ? fromBase64(entry.nameBase64) : textBytes(entry.name);
}

export function joinPath(dir, name) {
  if (dir.length === 0) return name;
  const out = new Uint8Array(dir.length + 1 + name.length);
  out.set(dir);
  out[dir.length] = SLASH;
  out.set(name, dir.length + 1);
  return out;
}

/** [segment bytes...]; the root is []. */
export function segmentsOf(path) {
  const segments = [];
  let start = 0;
  for (let i = 0; i <= path.length; i++) {
    if (i === path.length || path[i] === SLASH) {
      if (i > start) segments.push(path.subarray(start, i));
      start = i + 1;
    }
  }
  return segments;
}

export function parentOf(path) {
  const last = path.lastIndexOf(SLASH);
  return last === -1 ? EMPTY_PATH : path.subarray(0, last);
}

export function lastSegment(path) {
  return path.subarray(path.lastIndexOf(SLASH) + 1);
}

function encodedSegments(text) {
  return text.split('/').map(encodeURIComponent).join('/');
}

/** The web page showing `path` of archive `id`. */
export function pageHref(id, path) {
  const base = `/archives/${encodeURIComponent(id)}/files`;
  if (path.length === 0) return base;
  const text = utf8OrNull(path);
  return text === null ? `${base}?pathBase64=${encodeURIComponent(toBase64(path))}` : `${base}/${encodedSegments(text)}`;
}

/** The path a page address names (see pageHref); null when it names none. */
export function pathOfPage(pathname, query) {
  const base64 = query.get('pathBase64');
  if (base64 !== null) return fromBase64(base64);
  const match = /^\/archives\/[^/]+\/files(?:\/(.*))?$/.exec(pathname);
  if (!match) return null;
  const rest = (match[1] ?? '').replace(/\/+$/, '');
  try {
    return textBytes(decodeURIComponent(rest));
  } catch {
    return null;
  }
}

/** The API query naming `path`: `?path=` for UTF-8, `?pathBase64=` otherwise. */
export function apiPathQuery(path) {
  const text = utf8OrNull(path);
  return text === null ? `?pathBase64=${encodeURIComponent(toBase64(path))}` : `?path=${encodeURIComponent(text)}`;
}

/** The API address of a file's bytes. */
export function apiFileRoute(id, path) {
  const base = `/archives/${encodeURIComponent(id)}/files`;
  const text = utf8OrNull(path);
  return text === null ? `${base}?pathBase64=${encodeURIComponent(toBase64(path))}` : `${base}/${encodedSegments(text)}`;
}

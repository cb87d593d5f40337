/**
 * What a file path must look like to be stored readably as `<prefix>files/<path>`.
 *
 * Found empirically against the pinned MinIO (single-drive erasure mode; see
 * test/integration/exact-content.int-spec.ts, which checks every rule below against the real
 * server) and in its source (IsValidObjectPrefix, hasBadPathComponent, checkPathLength):
 * - keys must be valid UTF-8 (InvalidObjectName otherwise) and at most 1024 bytes (S3's limit;
 *   minio-js even refuses more than 1024 UTF-16 units before sending);
 * - every segment is a directory or file name on disk: at most 255 bytes (NAME_MAX; MinIO
 *   counts runes, the filesystem bytes), never empty (`a//b`; a trailing `/` would make a
 *   "folder object" instead);
 * - a segment that is `.` or `..` once ASCII whitespace is trimmed from both ends, with `\`
 *   also counted as a separator (so `a\..\b`, ` ..`, `.\t` are refused: XMinioInvalidResourceName);
 * - NUL is refused (git paths never contain it).
 * And one found only by deleting: MinIO stores and lists keys with any control character, but
 * removing several objects at once (DeleteObjects, how a snapshot is removed) sends the keys in
 * XML, and XML 1.0 cannot carry C0 controls other than tab, LF and CR, nor U+FFFE/U+FFFF
 * (minio-js refuses to build the request: "Invalid character in string"). Such keys would make
 * a snapshot impossible to clean up, so those paths are mapped too.
 * Every other byte 0x01-0x7f, `\` on its own, `%?#*`, tab/LF/CR/DEL, `.minio.sys`,
 * `xl.meta`, `part.1`, NFC and NFD spellings (kept as two objects), case variants: stored
 * and listed exactly.
 *
 * One more class is a conflict between two keys, not a property of one: MinIO keeps an object
 * as a directory holding `xl.meta`, so it accepts both `a` and `a/b`, but then lists only `a`
 * (so removing the snapshot by prefix leaves `a/b` behind), and refuses `a/xl.meta` next to an
 * object `a` outright. SnapshotKeyAllocator therefore never lets one readable key be a
 * "directory" of another.
 */
export const MAX_KEY_BYTES = 1024;
export const MAX_SEGMENT_BYTES = 255;

/** Why a path cannot be stored as `<prefix>files/<path>`; recorded in the manifest. */
export enum MappedReason {
  /** The path bytes are not valid UTF-8: an object key must be. */
  NOT_UTF8 = 'not-utf8',
  /** An empty, `.` or `..` segment (only in crafted trees), or NUL. */
  BAD_SEGMENT = 'bad-segment',
  /** A character XML 1.0 cannot carry (C0 controls but tab, LF, CR; U+FFFE, U+FFFF). */
  CONTROL_CHARACTER = 'control-character',
  /** One segment longer than MAX_SEGMENT_BYTES. */
  SEGMENT_TOO_LONG = 'segment-too-long',
  /** `<prefix>files/<path>` longer than MAX_KEY_BYTES. */
  KEY_TOO_LONG = 'key-too-long',
  /** Another file of the tree already has this exact path (crafted tree with duplicate entries). */
  DUPLICATE = 'duplicate',
  /** The path is a "directory" of another file's path, or the other way round (`a` and `a/b`). */
  PARENT_CONFLICT = 'parent-conflict',
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const lossyUtf8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/** The bytes as a string if they are valid UTF-8 (kept exactly, a leading BOM too), else null. */
export function strictUtf8Decode(bytes: Uint8Array): string | null {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return null;
  }
}

/** Text for people and for names that are valid UTF-8; `base64` only when the bytes are not. */
export function exactText(bytes: Uint8Array): { text: string; base64?: string } {
  const text = strictUtf8Decode(bytes);
  if (text !== null) return { text };
  return { text: lossyUtf8.decode(bytes), base64: Buffer.from(bytes).toString('base64') };
}

// NUL is left to the segment check, which reports it as a bad segment.
const NOT_IN_XML = /[\x01-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]/;

// Go's unicode.IsSpace applied to single bytes, as hasBadPathComponent does.
const MINIO_TRIMMED_BYTES = new Set([0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0x85, 0xa0]);

function isDotSegment(bytes: Buffer, start: number, end: number): boolean {
  while (start < end && MINIO_TRIMMED_BYTES.has(bytes[start] as number)) start++;
  while (end > start && MINIO_TRIMMED_BYTES.has(bytes[end - 1] as number)) end--;
  const length = end - start;
  return (length === 1 && bytes[start] === 0x2e) || (length === 2 && bytes[start] === 0x2e && bytes[start + 1] === 0x2e);
}

/**
 * Why `pathBytes` cannot be stored under `keyPrefix + path` (keyPrefix is `<prefix>files/`),
 * or null if it can. Conflicts with other keys are the allocator's business.
 */
export function unstorableReason(keyPrefix: string, pathBytes: Buffer): MappedReason | null {
  const text = strictUtf8Decode(pathBytes);
  if (text === null) return MappedReason.NOT_UTF8;
  let segmentStart = 0;
  let minioSegmentStart = 0;
  for (let i = 0; i <= pathBytes.length; i++) {
    const byte = i === pathBytes.length ? 0x2f : pathBytes[i];
    if (byte === 0) return MappedReason.BAD_SEGMENT;
    if (byte === 0x2f || byte === 0x5c) {
      if (isDotSegment(pathBytes, minioSegmentStart, i)) return MappedReason.BAD_SEGMENT;
      minioSegmentStart = i + 1;
    }
    if (byte === 0x2f) {
      if (i === segmentStart) return MappedReason.BAD_SEGMENT;
      if (i - segmentStart > MAX_SEGMENT_BYTES) return MappedReason.SEGMENT_TOO_LONG;
      segmentStart = i + 1;
    }
  }
  if (NOT_IN_XML.test(text)) return MappedReason.CONTROL_CHARACTER;
  if (Buffer.byteLength(keyPrefix, 'utf8') + pathBytes.length > MAX_KEY_BYTES) return MappedReason.KEY_TOO_LONG;
  return null;
}

/**
 * A Git LFS pointer file, as the spec (git-lfs docs/spec.md) defines it: at most 1024 bytes of
 * UTF-8 `key value` lines, each ending in `\n`, `version` first, the other keys in byte order,
 * with at least `oid sha256:<64 lowercase hex>` and `size <decimal>`. Parsed from the blob
 * itself, never trusted from `.gitattributes`: what a repository says is tracked and what its
 * blobs are can differ either way.
 */
export interface LfsPointer {
  /** Lowercase hex sha256 of the object's bytes. */
  readonly oid: string;
  readonly size: number;
}

export const MAX_POINTER_BYTES = 1024;

/** The spec's version URL, and the pre-release one git-lfs still reads. */
const VERSIONS = new Set(['https://git-lfs.github.com/spec/v1', 'https://hawser.github.com/spec/v1']);
const KEY = /^[a-z0-9.-]+$/;
const OID = /^sha256:([0-9a-f]{64})$/;
const SIZE = /^(0|[1-9][0-9]{0,15})$/;

/** The pointer `blob` encodes, or null when the blob is anything else (a file that is its own content). */
export function parseLfsPointer(blob: Buffer): LfsPointer | null {
  if (blob.length === 0 || blob.length > MAX_POINTER_BYTES || blob[blob.length - 1] !== 0x0a) return null;
  const text = blob.toString('utf8');
  // Invalid UTF-8 decodes to U+FFFD; a carriage return would mean CRLF lines, which the spec forbids.
  if (text.includes('\ufffd') || text.includes('\r')) return null;
  const lines = text.slice(0, -1).split('\n');
  const fields = new Map<string, string>();
  let previousKey = '';
  for (const [index, line] of lines.entries()) {
    const space = line.indexOf(' ');
    if (space <= 0) return null;
    const key = line.slice(0, space);
    const value = line.slice(space + 1);
    if (!KEY.test(key) || fields.has(key)) return null;
    if (index === 0 ? key !== 'version' : key <= previousKey && index > 1) return null;
    if (index > 0 && key === 'version') return null;
    fields.set(key, value);
    if (index > 0) previousKey = key;
  }
  if (!VERSIONS.has(fields.get('version') ?? '')) return null;
  const oid = OID.exec(fields.get('oid') ?? '')?.[1];
  const sizeText = fields.get('size') ?? '';
  if (oid === undefined || !SIZE.test(sizeText)) return null;
  const size = Number(sizeText);
  if (!Number.isSafeInteger(size)) return null;
  return { oid, size };
}

/** A pointer as git-lfs writes it (the spec's canonical form): for tests and restore checks. */
export function formatLfsPointer(pointer: LfsPointer): Buffer {
  return Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${pointer.oid}\nsize ${pointer.size}\n`, 'utf8');
}

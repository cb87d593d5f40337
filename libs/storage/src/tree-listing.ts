import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import { exactText } from './object-key-rules';
import { StorageError, StorageErrorCode } from './storage.error';

/**
 * One listing per distinct directory tree of the repository, at `trees/<id[0:2]>/<id[2:]>` of
 * its bucket (beside `objects/`): named by the git tree id, so a listing is written once and
 * never rewritten, and a visit writes only the listings of directories that changed. A v4
 * manifest names the root tree; everything below is found by following tree ids.
 */
export const TREES_FOLDER = 'trees/';

/** Stored gzip-compressed; MinIO serves it with this encoding, so browsers and the console show JSON. */
export const TREE_LISTING_CONTENT_TYPE = 'application/json';
export const TREE_LISTING_CONTENT_ENCODING = 'gzip';

/** Bumped for any change readers cannot ignore. */
const LISTING_VERSION = 1;
/** A listing names entries, never bytes; anything bigger is not one we wrote. */
const MAX_LISTING_BYTES = 64 * 1024 * 1024;
const GIT_OBJECT_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
const GZIP_MAGIC = [0x1f, 0x8b];

export type TreeListingEntryType = 'blob' | 'tree' | 'commit';

/**
 * One entry of a directory, as git stores it. A blob's bytes are at `objects/<id>` (objectKey):
 * the key derives from the id, so it is not repeated. The git blob id is also what verifies the
 * stored bytes (sha1 of `blob <size>\0<bytes>`), so no other checksum is kept per file.
 */
export interface TreeListingEntry {
  /** The exact name bytes (any bytes but NUL; `/` too in a crafted tree). */
  nameBytes: Buffer;
  /** `blob` (a file, executable or symlink: see `mode`), `tree` (a directory) or `commit` (a submodule, not stored). */
  type: TreeListingEntryType;
  /** Git mode: 100644, 100755, 120000 (symlink), 040000 (tree), 160000 (submodule). */
  mode: string;
  /** The git object id of the blob, tree or submodule commit. */
  id: string;
  /** Bytes of a blob; absent otherwise. */
  size?: number;
}

/**
 * The JSON of one entry: `name` (for people; U+FFFD where the bytes are not UTF-8) and then
 * `nameBase64` (the exact bytes) only when they are not UTF-8, as a manifest spells paths.
 */
interface StoredEntry {
  name: string;
  nameBase64?: string;
  type: TreeListingEntryType;
  mode: string;
  id: string;
  size?: number;
}

interface StoredListing {
  version: number;
  entries: StoredEntry[];
}

export function treeListingKey(treeId: string): string {
  if (!GIT_OBJECT_ID.test(treeId)) throw new StorageError(StorageErrorCode.INVALID, `"${treeId}" is not a git tree id`);
  return `${TREES_FOLDER}${treeId.slice(0, 2)}/${treeId.slice(2)}`;
}

/** The gzip-compressed JSON of a listing, entries in the tree's own order. */
export function encodeTreeListing(entries: readonly TreeListingEntry[]): Buffer {
  const listing: StoredListing = {
    version: LISTING_VERSION,
    entries: entries.map(({ nameBytes, type, mode, id, size }) => {
      const name = exactText(nameBytes);
      return {
        name: name.text,
        ...(name.base64 !== undefined && { nameBase64: name.base64 }),
        type,
        mode,
        id,
        ...(size !== undefined && { size }),
      };
    }),
  };
  return gzipSync(JSON.stringify(listing), { level: 9 });
}

/** The entries of a stored listing (gzip or plain JSON), checked field by field. */
export function decodeTreeListing(stored: Buffer, label: string): TreeListingEntry[] {
  let parsed: unknown;
  try {
    const json =
      stored[0] === GZIP_MAGIC[0] && stored[1] === GZIP_MAGIC[1] ? gunzipSync(stored, { maxOutputLength: MAX_LISTING_BYTES }) : stored;
    parsed = JSON.parse(json.toString('utf8'));
  } catch (error) {
    throw invalid(label, `not gzip-compressed JSON (${(error as Error).message})`);
  }
  const listing = parsed as Partial<StoredListing>;
  if (listing?.version !== LISTING_VERSION || !Array.isArray(listing.entries)) {
    throw invalid(label, `expected version ${LISTING_VERSION} with entries`);
  }
  return listing.entries.map((entry: Partial<StoredEntry>, i) => {
    const { name, nameBase64, type, mode, id, size } = entry ?? {};
    const well =
      typeof name === 'string' &&
      (nameBase64 === undefined || typeof nameBase64 === 'string') &&
      (type === 'blob' || type === 'tree' || type === 'commit') &&
      typeof mode === 'string' &&
      /^[0-7]{6}$/.test(mode) &&
      typeof id === 'string' &&
      GIT_OBJECT_ID.test(id) &&
      (type === 'blob' ? Number.isSafeInteger(size) && (size as number) >= 0 : size === undefined);
    if (!well) throw invalid(label, `entry ${i} is malformed`);
    const nameBytes = nameBase64 !== undefined ? Buffer.from(nameBase64, 'base64') : Buffer.from(name, 'utf8');
    return { nameBytes, type, mode, id, ...(size !== undefined && { size }) };
  });
}

/** Reads and decodes `trees/<treeId>`; the store's NOT_FOUND error when it is missing. */
export async function readTreeListing(
  store: { getObject(bucket: string, key: string): Promise<Readable> },
  bucket: string,
  treeId: string,
): Promise<TreeListingEntry[]> {
  const key = treeListingKey(treeId);
  const stream = await store.getObject(bucket, key);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_LISTING_BYTES) {
      stream.destroy();
      throw invalid(`${bucket}/${key}`, `larger than ${MAX_LISTING_BYTES} bytes`);
    }
    chunks.push(chunk);
  }
  return decodeTreeListing(Buffer.concat(chunks), `${bucket}/${key}`);
}

/**
 * The git id of the tree object the entries spell (`<mode> <name>\0<binary id>` each, with git's
 * `40000` for trees), sha1 or sha256 by the ids' length: a listing whose id differs from the
 * key's is not the tree it claims to be.
 */
export function gitTreeIdOf(entries: readonly TreeListingEntry[], algorithm: 'sha1' | 'sha256' = 'sha1'): string {
  const body = Buffer.concat(
    entries.map(({ mode, nameBytes, id }) =>
      Buffer.concat([Buffer.from(`${mode === '040000' ? '40000' : mode} `), nameBytes, Buffer.from([0]), Buffer.from(id, 'hex')]),
    ),
  );
  return createHash(algorithm).update(`tree ${body.length}\0`).update(body).digest('hex');
}

function invalid(label: string, why: string): StorageError {
  return new StorageError(StorageErrorCode.INVALID, `${label} is not a tree listing: ${why}`);
}

import { createHash } from 'node:crypto';
import { MappedReason, strictUtf8Decode, unstorableReason } from './object-key-rules';
import { fileKey, mappedFileKey } from './snapshot-prefix';
import { StorageError, StorageErrorCode } from './storage.error';

export interface AllocatedKey {
  readonly key: string;
  /** Set when the file could not keep its readable key `<prefix>files/<path>`. */
  readonly mappedBecause?: MappedReason;
}

/**
 * Gives every file of one snapshot its object key, in tree order, so that two different files
 * never share a key, whatever the tree holds:
 * - a path that is valid UTF-8, storable (object-key-rules.ts) and in no conflict with an
 *   earlier readable key keeps `<prefix>files/<path>`: the bytes are the key, so distinct paths
 *   get distinct keys;
 * - anything else goes to `<prefix>mapped/<sha256 of the exact path bytes>`, with `-<n>` for
 *   the n-th file of one path (duplicate tree entries). `files/` and `mapped/` are sibling
 *   folders, so no readable key can equal a mapped one.
 * Tree order is git's, so the same tree always gets the same keys.
 *
 * claim() is the last line: whatever the derivation, one key is never written twice.
 */
export class SnapshotKeyAllocator {
  private readonly claimed = new Set<string>();
  /** Every folder of a readable key (`<prefix>files/a/`), to refuse an object of that name. */
  private readonly folders = new Set<string>();
  /** Files seen so far per path, for paths that were mapped at least once. */
  private readonly mappedOccurrences = new Map<string, number>();
  private readonly filesFolder: string;

  constructor(private readonly prefix: string) {
    this.filesFolder = fileKey(prefix, '');
  }

  allocate(pathBytes: Buffer): AllocatedKey {
    const reason = this.readableProblem(pathBytes);
    if (reason === null) {
      const key = fileKey(this.prefix, strictUtf8Decode(pathBytes) as string);
      this.claim(key);
      this.addFolders(key);
      return { key };
    }
    const pathHash = createHash('sha256').update(pathBytes).digest('hex');
    const readableBefore = reason === MappedReason.DUPLICATE ? 1 : 0;
    const occurrence = (this.mappedOccurrences.get(pathHash) ?? readableBefore) + 1;
    this.mappedOccurrences.set(pathHash, occurrence);
    const key = mappedFileKey(this.prefix, pathHash, occurrence);
    this.claim(key);
    return { key, mappedBecause: reason };
  }

  /** Records that `key` is written; refuses a key written before in this snapshot. */
  claim(key: string): void {
    if (this.claimed.has(key)) {
      throw new StorageError(StorageErrorCode.INVALID, `Refusing to write two files to one object key: ${key}`);
    }
    this.claimed.add(key);
  }

  private readableProblem(pathBytes: Buffer): MappedReason | null {
    const reason = unstorableReason(this.filesFolder, pathBytes);
    if (reason !== null) return reason;
    const key = fileKey(this.prefix, strictUtf8Decode(pathBytes) as string);
    if (this.claimed.has(key)) return MappedReason.DUPLICATE;
    if (this.folders.has(`${key}/`)) return MappedReason.PARENT_CONFLICT;
    for (let slash = key.indexOf('/', this.filesFolder.length); slash >= 0; slash = key.indexOf('/', slash + 1)) {
      if (this.claimed.has(key.slice(0, slash))) return MappedReason.PARENT_CONFLICT;
    }
    return null;
  }

  private addFolders(key: string): void {
    for (let slash = key.lastIndexOf('/'); slash >= this.filesFolder.length; slash = key.lastIndexOf('/', slash - 1)) {
      const folder = key.slice(0, slash + 1);
      // A folder known means all of its parents are known too.
      if (this.folders.has(folder)) return;
      this.folders.add(folder);
    }
  }
}

import { Readable } from 'node:stream';
import { manifestKey } from './snapshot-prefix';
import type { SnapshotManifest } from './snapshot-manifest';
import { StorageError, StorageErrorCode } from './storage.error';
import { encodeTreeListing, gitTreeIdOf, type TreeListingEntry, treeListingKey } from './tree-listing';

/**
 * An in-memory bucket for the unit tests of listing readers and writers: objects by key, each
 * read and conditional write recorded in order. Test support only; nothing in the apps uses it.
 */
export class ListingFakeStore {
  readonly objects = new Map<string, Buffer>();
  readonly reads: string[] = [];
  readonly puts: string[] = [];

  async getObject(bucket: string, key: string): Promise<Readable> {
    this.reads.push(key);
    const body = this.objects.get(key);
    if (!body) throw new StorageError(StorageErrorCode.NOT_FOUND, `${bucket}/${key} not found`);
    return Readable.from([body]);
  }

  async putBufferIfAbsent(_bucket: string, key: string, body: Buffer): Promise<boolean> {
    this.puts.push(key);
    if (this.objects.has(key)) return false;
    this.objects.set(key, body);
    return true;
  }

  /** Stores a listing under the id git would give its entries; returns the id. */
  tree(entries: TreeListingEntry[]): string {
    const id = gitTreeIdOf(entries);
    this.objects.set(treeListingKey(id), encodeTreeListing(entries));
    return id;
  }

  manifest(prefix: string, manifest: Partial<SnapshotManifest>): SnapshotManifest {
    this.objects.set(manifestKey(prefix), Buffer.from(JSON.stringify(manifest)));
    return manifest as SnapshotManifest;
  }
}

export const fileEntry = (name: string | Buffer, id: string, size = 1, mode = '100644'): TreeListingEntry => ({
  nameBytes: Buffer.from(name),
  type: 'blob',
  mode,
  id,
  size,
});

export const dirEntry = (name: string | Buffer, id: string): TreeListingEntry => ({
  nameBytes: Buffer.from(name),
  type: 'tree',
  mode: '040000',
  id,
});

/** A fake blob id made from a short seed. */
export const blobId = (seed: string) => Buffer.from(seed.padEnd(20, '.')).subarray(0, 20).toString('hex');

import type { SnapshotLfsEntry } from '@archiver/storage';
import type { SnapshotTree } from './snapshot-tree';

/** What browsing a snapshot needs of its manifest, parsed once. */
export interface SnapshotIndex {
  commit: string | null;
  /** v2/v3: the tree rebuilt from the manifest's `files`. */
  tree?: SnapshotTree;
  /** v4: the root tree id (null: no files), whose listings are read as directories are browsed. */
  root?: string | null;
  /** The stored tree's Git LFS pointers by exact path bytes (latin1 text of them); empty for none. */
  lfs?: ReadonlyMap<string, SnapshotLfsEntry>;
}

export interface SnapshotIndexCacheOptions {
  maxEntries: number;
  /** Bound on the summed weights (the manifests' JSON sizes). */
  maxWeight: number;
}

interface Cached<T> {
  index: Promise<T>;
  weight: number;
}

/**
 * Least-recently-used snapshot indexes by key. A manifest never changes once written, so an
 * entry never goes stale; the bounds only keep memory in check. Concurrent requests for the
 * same snapshot share one load; a failed load is forgotten so the next request tries again.
 */
export class SnapshotIndexCache<T = SnapshotIndex> {
  private readonly entries = new Map<string, Cached<T>>();
  private weight = 0;

  constructor(private readonly options: SnapshotIndexCacheOptions) {}

  get size(): number {
    return this.entries.size;
  }

  get totalWeight(): number {
    return this.weight;
  }

  /** The cached index for `key`, or the one `load` produces (with its weight), then cached. */
  get(key: string, load: () => Promise<{ index: T; weight: number }>): Promise<T> {
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit.index;
    }
    const cached: Cached<T> = { index: Promise.resolve(undefined as never), weight: 0 };
    cached.index = load().then(
      ({ index, weight }) => {
        if (this.entries.get(key) === cached) {
          cached.weight = weight;
          this.weight += weight;
          this.evict();
        }
        return index;
      },
      (error: unknown) => {
        if (this.entries.get(key) === cached) this.entries.delete(key);
        throw error;
      },
    );
    this.entries.set(key, cached);
    this.evict();
    return cached.index;
  }

  private evict(): void {
    for (const [key, entry] of this.entries) {
      if (this.entries.size <= this.options.maxEntries && this.weight <= this.options.maxWeight) return;
      // One entry heavier than the whole budget is still served once; it just is not kept.
      this.entries.delete(key);
      this.weight -= entry.weight;
    }
  }
}

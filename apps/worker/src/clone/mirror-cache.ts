import { Inject, Injectable, Logger } from '@nestjs/common';
import { mkdir, readdir, rename, rm, stat, utimes } from 'node:fs/promises';
import path from 'node:path';
import { APP_CONFIG, AppConfig } from '@archiver/config';
import { ArchiveRepository } from '@archiver/database';
import {
  directorySize,
  GitError,
  GitErrorCode,
  RemoteCredential,
  refsHash,
  RepositoryReader,
  SafeCloner,
  verifyMirror,
} from '@archiver/git';
import { ObjectStoreRepository, readManifestRefs, readSnapshotManifest, refsOfManifest } from '@archiver/storage';

/** The visit a mirror is obtained for. */
export interface MirrorVisit {
  readonly id: string;
  readonly repositoryId: string;
  readonly url: string;
  /** The repository's bucket: the cache's key, one mirror per repository. */
  readonly bucket: string;
  /** A private repository's credential, for this visit's clone or fetch only. */
  readonly credential?: RemoteCredential;
}

/** A bare mirror held by one run, inside its own work dir, until given back. */
export interface MirrorLease {
  readonly gitDir: string;
  /** `fetched`: a cached mirror brought up to date; `cloned`: a full clone (a miss, or the cache was not fit to use). */
  readonly via: 'fetched' | 'cloned';
  readonly key: string;
  readonly workDir: string;
}

/** Bucket names (S3 rules) are already safe file names; anything else is not cached. */
const SAFE_KEY = /^[a-z0-9][a-z0-9.-]{1,62}$/;
const MIRROR_SUFFIX = '.git';

/**
 * Failures of a fetch that say the mirror is at fault, not the remote: a full clone may still
 * succeed (the mirror's old objects may be what broke the size cap, or what git choked on).
 * Anything else (not found, private, refused, timed out, aborted) a clone would meet too.
 */
const CACHE_FAULTS: ReadonlySet<GitErrorCode> = new Set([
  GitErrorCode.GIT_FAILED,
  GitErrorCode.CORRUPT_REPOSITORY,
  GitErrorCode.TOO_LARGE,
  GitErrorCode.INVALID_ARGUMENT,
]);

/**
 * The worker's last mirror of each repository, under `<ARCHIVER_WORK_DIR>/mirrors/<bucket>.git`,
 * so that a changed visit fetches only new objects. Never trusted over the bucket: a mirror is
 * used only when it passes `git fsck --connectivity-only` and its refs are exactly those of the
 * repository's last completed snapshot's manifest; otherwise the visit clones in full.
 *
 * A run takes a mirror by renaming it into its own work dir (atomic on one disk), so no two
 * runs, in this process or another on the same disk, ever share one, and a run that crashes
 * leaves it to be swept with its dir rather than half-updated in the cache. It is renamed back
 * only after the visit completed, stamped as most recently used; the least recently used
 * mirrors are then evicted until the cache fits `WORKER_MIRROR_CACHE_BYTES` (mirrors held by
 * running visits are in their run dirs, bounded by CLONE_MAX_BYTES each, and not counted).
 */
@Injectable()
export class MirrorCache {
  private readonly logger = new Logger(MirrorCache.name);
  private readonly root: string;
  private readonly capBytes: number;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly cloner: SafeCloner,
    private readonly archives: ArchiveRepository,
    private readonly store: ObjectStoreRepository,
  ) {
    this.root = path.join(config.clone.workDir, 'mirrors');
    this.capBytes = config.worker.mirrorCacheBytes;
  }

  /** A bare mirror of `visit.url` in `workDir`, equal to the remote, like SafeCloner.clone's and failing as it does. */
  async obtain(visit: MirrorVisit, workDir: string, signal: AbortSignal): Promise<MirrorLease> {
    const gitDir = path.join(workDir, 'repo.git');
    const lease = { gitDir, key: visit.bucket, workDir };
    // git's throw-away HOME lives in the run's own dir, so it goes wherever that dir goes.
    const limits = {
      url: visit.url,
      scratchDir: workDir,
      deadlineMs: this.config.clone.timeoutMs,
      maxBytes: this.config.clone.maxBytes,
      signal,
      credential: visit.credential,
    };
    if (this.cacheable(visit.bucket) && (await this.take(visit.bucket, gitDir))) {
      let unfit = await this.unfit(visit, gitDir, signal);
      if (!unfit) {
        try {
          await this.cloner.fetchInto({ gitDir, ...limits });
          this.logger.log({ msg: 'mirror cache hit: fetched into the cached mirror', bucket: visit.bucket });
          return { ...lease, via: 'fetched' };
        } catch (error) {
          signal.throwIfAborted();
          if (!(error instanceof GitError) || !CACHE_FAULTS.has(error.code)) throw error;
          unfit = `the fetch into it failed (${error.code}: ${error.message})`;
        }
      }
      this.logger.warn({ msg: 'cached mirror discarded; cloning in full', bucket: visit.bucket, why: unfit });
      await rm(gitDir, { recursive: true, force: true, maxRetries: 3 });
    }
    await this.cloner.clone({ dir: gitDir, ...limits });
    return { ...lease, via: 'cloned' };
  }

  /**
   * Puts the lease's mirror in the cache, to be called only once the visit it served completed
   * (its refs are then those of the newest manifest). Never fails: the visit is done, and a
   * mirror not kept only costs the next visit a full clone.
   */
  async giveBack(lease: MirrorLease): Promise<void> {
    if (!this.cacheable(lease.key)) return;
    try {
      await mkdir(this.root, { recursive: true, mode: 0o700 });
      const now = new Date();
      await utimes(lease.gitDir, now, now);
      await rename(lease.gitDir, this.entry(lease.key));
    } catch (error) {
      // ENOTEMPTY/EEXIST: a concurrent visit of the same repository gave its mirror back first.
      this.logger.warn({ msg: 'mirror not kept', bucket: lease.key, error: (error as Error).message });
      return;
    }
    await this.evict(lease.workDir).catch((error: Error) =>
      this.logger.warn({ msg: 'mirror cache eviction failed', error: error.message }),
    );
  }

  private cacheable(key: string): boolean {
    return this.capBytes > 0 && SAFE_KEY.test(key) && !key.includes('..');
  }

  private entry(key: string): string {
    return path.join(this.root, `${key}${MIRROR_SUFFIX}`);
  }

  /** Moves the cached mirror into the run's dir; false when there is none (or another run just took it). */
  private async take(key: string, gitDir: string): Promise<boolean> {
    try {
      await rename(this.entry(key), gitDir);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
  }

  /** Why the mirror must not be built on, or null when it is exactly the last completed snapshot's state. */
  private async unfit(visit: MirrorVisit, gitDir: string, signal: AbortSignal): Promise<string | null> {
    try {
      await verifyMirror(gitDir, { signal });
    } catch (error) {
      signal.throwIfAborted();
      return (error as Error).message;
    }
    const previous = await this.archives.findPreviousCompletedVisit(visit.repositoryId, visit.id);
    if (!previous?.prefix || previous.bucket !== visit.bucket) return 'there is no completed snapshot to check it against';
    try {
      const manifest = await readSnapshotManifest(this.store, visit.bucket, previous.prefix);
      const expected = refsOfManifest(await readManifestRefs(this.store, visit.bucket, manifest));
      const actual = await new RepositoryReader(gitDir).refs({ signal });
      if (refsHash(actual) !== refsHash(expected)) return `its refs differ from those of the last snapshot (${previous.id})`;
      return null;
    } catch (error) {
      signal.throwIfAborted();
      return `it could not be compared with the last snapshot: ${(error as Error).message}`;
    }
  }

  /**
   * Evicts the least recently given back mirrors until the cache fits its cap. An evicted
   * mirror is first renamed into the run's own dir, so a crash mid-removal leaves nothing in
   * the cache, and a mirror another run has just taken is simply not there any more.
   */
  private async evict(workDir: string): Promise<void> {
    const names = (await readdir(this.root)).filter((name) => name.endsWith(MIRROR_SUFFIX));
    const entries: { name: string; usedAt: number; bytes: number }[] = [];
    for (const name of names) {
      const dir = path.join(this.root, name);
      const usedAt = await stat(dir).then(
        (s) => s.mtimeMs,
        () => null,
      );
      if (usedAt !== null) entries.push({ name, usedAt, bytes: await directorySize(dir) });
    }
    entries.sort((a, b) => b.usedAt - a.usedAt);
    let kept = 0;
    let full = false;
    for (const [index, { name, bytes }] of entries.entries()) {
      // Strictly least recently used: once one does not fit, neither does anything older.
      full ||= kept + bytes > this.capBytes;
      if (!full) {
        kept += bytes;
        continue;
      }
      const doomed = path.join(workDir, `evicted-${index}`);
      const moved = await rename(path.join(this.root, name), doomed).then(
        () => true,
        () => false,
      );
      if (!moved) continue;
      await rm(doomed, { recursive: true, force: true, maxRetries: 3 });
      this.logger.log({ msg: 'mirror evicted from the cache', mirror: name, bytes });
    }
  }
}

import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@archiver/config';
import {
  GitError,
  GitErrorCode,
  type GitRef,
  isSshKeyCredential,
  LfsClient,
  type LfsCredential,
  lfsEndpointFor,
  type LfsMissingReason,
  LfsObjectMissing,
  type LfsPointer,
  type LfsSshAccessResult,
  LfsSshAuthenticator,
  reasonOf,
  type RemoteCredential,
  type RepositoryReader,
  UrlPolicy,
} from '@archiver/git';
import {
  exactText,
  lfsObjectKey,
  ObjectStoreRepository,
  type SnapshotLfs,
  type SnapshotLfsEntry,
  StorageError,
  StorageErrorCode,
} from '@archiver/storage';
import { findLfsPointers, type FoundPointer } from './lfs-pointers';

export interface LfsVisit {
  readonly bucket: string;
  /** The repository URL as submitted: the LFS endpoint derives from it (unless `.lfsconfig` names one). */
  readonly url: string;
  readonly credential: RemoteCredential | undefined;
  readonly reader: RepositoryReader;
  readonly commit: string | null;
  readonly refs: readonly GitRef[];
  /** Bytes of the repository on disk (the clone): LFS objects count toward the same cap. */
  readonly repositoryBytes: number;
  readonly signal: AbortSignal;
}

/** Downloads in flight at once: the bucket and the forge are shared with everything else. */
const CONCURRENCY = 2;
const OCTET_STREAM = 'application/octet-stream';

/**
 * The snapshot's Git LFS objects: the pointers of the stored tree (every ref's tip with
 * LFS_ALL_REFS) are found in the clone, the objects not yet in the repository's bucket are
 * fetched through LfsClient (same credential, same URL policy as the clone), verified by
 * sha256 and size while they stream into `lfs/<oid[0:2]>/<oid>`. An object that cannot be had
 * is reported missing with its reason and never fails the visit; the size cap does.
 */
@Injectable()
export class LfsArchiver {
  private readonly logger = new Logger(LfsArchiver.name);
  private readonly client: LfsClient;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly store: ObjectStoreRepository,
    policy: UrlPolicy,
    private readonly sshAuthenticator: LfsSshAuthenticator,
  ) {
    this.client = new LfsClient({ policy });
  }

  /** The manifest's `lfs` section, or undefined when the snapshot has no pointers. */
  async archive(visit: LfsVisit): Promise<SnapshotLfs | undefined> {
    const { signal } = visit;
    const found = await findLfsPointers(visit.reader, visit.commit, visit.refs, { allRefs: this.config.lfs.allRefs, signal });
    if (found.pointers.length === 0) return undefined;
    const objects = distinct(found.pointers);
    this.enforceSizeCap(visit, objects);

    const outcome = new Map<string, LfsMissingReason | 'stored'>();
    const wanted: LfsPointer[] = [];
    for (const object of objects) {
      if (await this.isStored(visit.bucket, object)) outcome.set(object.oid, 'stored');
      else wanted.push(object);
    }
    let uploaded = 0;
    if (wanted.length > 0) {
      const derived = lfsEndpointFor(visit.url, found.lfsUrl);
      const target = 'sshAuthenticate' in derived ? await this.sshAccess(visit) : derived;
      if ('missing' in target) {
        for (const object of wanted) outcome.set(object.oid, target.missing);
      } else {
        // Over SSH, git-lfs-authenticate's headers open its href's origin; nothing else gets them.
        const credential: LfsCredential | undefined =
          'header' in target
            ? { origin: new URL(target.endpoint).origin, header: target.header }
            : lfsCredential(visit.url, visit.credential);
        const answers = await this.client.batch(target.endpoint, wanted, credential, signal);
        await eachLimited(wanted, CONCURRENCY, async (object) => {
          const answer = answers.get(object.oid)!;
          const result = answer.kind === 'missing' ? answer.reason : await this.fetchOne(visit, object, answer, credential);
          outcome.set(object.oid, result);
          if (result === 'stored' && answer.kind === 'download') uploaded++;
        });
      }
    }
    const section = lfsSection(found.pointers, outcome, uploaded);
    this.logger.log({
      msg: 'LFS objects archived',
      bucket: visit.bucket,
      objects: section.objectCount,
      bytes: section.byteCount,
      uploaded,
      missing: section.missingCount,
    });
    return section;
  }

  /**
   * An SSH remote's LFS endpoint and its headers, from git-lfs-authenticate run with the visit's
   * deploy key (host key pinned by the clone) through the clone's guard, bounded like one object.
   */
  private sshAccess(visit: LfsVisit): Promise<LfsSshAccessResult> {
    return this.sshAuthenticator.access({
      url: visit.url,
      credential: visit.credential,
      deadlineMs: Math.min(this.config.clone.timeoutMs, this.config.lfs.objectTimeoutMs),
      signal: visit.signal,
    });
  }

  /** The declared sizes, before anything is downloaded: a repository over the cap fails as it would for its clone. */
  private enforceSizeCap(visit: LfsVisit, objects: readonly LfsPointer[]): void {
    const lfsBytes = objects.reduce((sum, o) => sum + o.size, 0);
    const { maxBytes } = this.config.clone;
    if (visit.repositoryBytes + lfsBytes > maxBytes) {
      throw new GitError(
        GitErrorCode.TOO_LARGE,
        `Repository at ${visit.url} is larger than the ${maxBytes}-byte limit for archives with its Git LFS objects ` +
          `(${visit.repositoryBytes} bytes of git data and ${lfsBytes} bytes in ${objects.length} LFS objects)`,
      );
    }
  }

  private async isStored(bucket: string, object: LfsPointer): Promise<boolean> {
    try {
      return (await this.store.statObject(bucket, lfsObjectKey(object.oid))).size === object.size;
    } catch (error) {
      if (error instanceof StorageError && error.code === StorageErrorCode.NOT_FOUND) return false;
      throw error;
    }
  }

  /** One object, streamed from the server through verification into the bucket; its reason when it cannot be. */
  private async fetchOne(
    visit: LfsVisit,
    object: LfsPointer,
    answer: Parameters<LfsClient['download']>[0],
    credential: LfsCredential | undefined,
  ): Promise<LfsMissingReason | 'stored'> {
    const signal = AbortSignal.any([visit.signal, AbortSignal.timeout(this.config.lfs.objectTimeoutMs)]);
    let downloadFailure: unknown;
    try {
      const { stream } = await this.client.download(answer, object, credential, signal);
      stream.on('error', (error) => (downloadFailure ??= error));
      await this.store.putStream(visit.bucket, lfsObjectKey(object.oid), stream, object.size, OCTET_STREAM);
      return 'stored';
    } catch (error) {
      visit.signal.throwIfAborted();
      const cause = downloadFailure ?? error;
      // The bucket failing is the visit's problem (retried like any storage failure), not the object's.
      if (downloadFailure === undefined && error instanceof StorageError && !signal.aborted) throw error;
      return reasonOf(cause instanceof LfsObjectMissing || downloadFailure !== undefined ? cause : error, 'the download');
    }
  }
}

function distinct(pointers: readonly FoundPointer[]): LfsPointer[] {
  const byOid = new Map<string, LfsPointer>();
  for (const { oid, size } of pointers) if (!byOid.has(oid)) byOid.set(oid, { oid, size });
  return [...byOid.values()];
}

/** Basic auth for the repository's own origin; an SSH key opens no LFS server. */
function lfsCredential(url: string, credential: RemoteCredential | undefined): LfsCredential | undefined {
  if (!credential || isSshKeyCredential(credential) || !/^https?:/i.test(url)) return undefined;
  return { origin: new URL(url).origin, username: credential.username, password: credential.password };
}

function lfsSection(
  pointers: readonly FoundPointer[],
  outcome: ReadonlyMap<string, LfsMissingReason | 'stored'>,
  uploaded: number,
): SnapshotLfs {
  const seen = new Set<string>();
  const entries: SnapshotLfsEntry[] = [];
  for (const pointer of pointers) {
    const key = `${pointer.ref ?? ''}\0${pointer.pathBytes.toString('latin1')}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const path = exactText(pointer.pathBytes);
    const result = outcome.get(pointer.oid) ?? { code: 'LFS_SERVER_ERROR', message: 'not attempted' };
    entries.push({
      path: path.text,
      ...(path.base64 !== undefined && { pathBase64: path.base64 }),
      ...(pointer.ref !== undefined && { ref: pointer.ref }),
      oid: pointer.oid,
      size: pointer.size,
      status: result === 'stored' ? 'stored' : 'missing',
      ...(result !== 'stored' && { missing: { code: result.code, message: result.message } }),
    });
  }
  const sizes = new Map(pointers.map((p) => [p.oid, p.size]));
  const stored = [...outcome].filter(([, r]) => r === 'stored').map(([oid]) => oid);
  return {
    objectCount: stored.length,
    byteCount: stored.reduce((sum, oid) => sum + (sizes.get(oid) ?? 0), 0),
    missingCount: outcome.size - stored.length,
    uploadedCount: uploaded,
    entries,
  };
}

async function eachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!);
  });
  await Promise.all(lanes);
}

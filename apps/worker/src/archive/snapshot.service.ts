import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { APP_CONFIG, AppConfig } from '@archiver/config';
import {
  ArchiveRecord,
  ArchiveRepository,
  TrackedRepositoryRepository,
  VisitOutcome,
  VisitRefChanges,
  VisitResult,
} from '@archiver/database';
import {
  diffRefs,
  directorySize,
  GitError,
  GitErrorCode,
  GitRef,
  RemoteCredential,
  refsHash,
  RemoteRefs,
  RepositoryReader,
  SafeCloner,
  summarizeRefChanges,
} from '@archiver/git';
import { JobContext, PermanentJobError, RetryLaterError } from '@archiver/queue';
import {
  bucketListings,
  bucketNameFor,
  CommitTrees,
  contentManifestOf,
  contentSnapshotOf,
  exactText,
  objectsReferencedBy,
  LatestView,
  listsFilesByTree,
  manifestHeadFields,
  mappedPathCount,
  ObjectStoreRepository,
  readBundleChain,
  readManifestRefs,
  readSnapshotManifest,
  refsOfManifest,
  SnapshotFileSource,
  SnapshotManifest,
  SnapshotRef,
  snapshotPrefix,
  SnapshotTreeFile,
  SnapshotWriter,
  StoredBefore,
  storedBefore,
  treeFiles,
} from '@archiver/storage';
import { MirrorCache, type MirrorLease, type MirrorVisit } from '../clone/mirror-cache';
import { VisitCredentials } from '../clone/visit-credentials';
import { LfsArchiver } from '../lfs/lfs-archiver';
import { WorkerMetrics } from '../metrics/worker-metrics';
import { WorkDirs } from '../clone/work-dir';
import { HostPoliteness } from '../politeness/host-politeness';
import type { HostSlot } from '../politeness/host-slot';
import { ClaimLostError, RunClaim } from '../run/run-claim';
import { VisitNotifier } from '../webhooks/visit-notifier';
import { describeFailure } from './archive-failure';
import { BundlePlan, storeSnapshotBundle } from './snapshot-bundle';

type Located = ArchiveRecord & { bucket: string; prefix: string };
interface PreviousSnapshot {
  record: ArchiveRecord;
  manifest: SnapshotManifest | null;
  refs: SnapshotRef[] | null;
}

/** How long a run waits for our own database, Redis or object storage to come back. */
const INFRASTRUCTURE_RETRY_MS = 5_000;

/**
 * One run of an archive, start to finish: claim it, clone bare into a temp dir, store files +
 * bundle + manifest (last) under this run's own prefix of the repository's bucket, complete
 * it. Only the run holding the archive's claim may complete or fail it; a run that loses the
 * claim (or is interrupted) stops, removes what it wrote, and leaves the archive to the next.
 */
@Injectable()
export class SnapshotService {
  private readonly logger = new Logger(SnapshotService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly archives: ArchiveRepository,
    private readonly store: ObjectStoreRepository,
    private readonly cloner: SafeCloner,
    private readonly workDirs: WorkDirs,
    private readonly repositories: TrackedRepositoryRepository,
    private readonly mirrors: MirrorCache,
    private readonly metrics: WorkerMetrics,
    private readonly credentials: VisitCredentials,
    private readonly notifier: VisitNotifier,
    private readonly lfs: LfsArchiver,
    private readonly politeness: HostPoliteness,
  ) {}

  async archive(archiveId: string, context: JobContext): Promise<void> {
    // Before the claim: a visit whose host is full or backing off goes back to the queue still
    // `queued`, with no run counted and no startedAt stamped — it has not started.
    const upstream = await this.enterUpstreamHost(archiveId);
    try {
      await this.run(archiveId, context, upstream);
    } finally {
      await upstream?.release();
    }
  }

  /** A slot on the archive's upstream host (HostPoliteness), or null when the archive is not runnable (claim says why). */
  private async enterUpstreamHost(archiveId: string): Promise<HostSlot | null> {
    try {
      const archive = await this.archives.findById(archiveId);
      if (!archive || archive.status === 'completed' || archive.status === 'failed') return null;
      return await this.politeness.enter(archive.url);
    } catch (error) {
      if (error instanceof RetryLaterError) throw error;
      const failure = describeFailure(error);
      if (failure.infrastructure) throw new RetryLaterError(failure.message, INFRASTRUCTURE_RETRY_MS, { cause: error });
      throw error;
    }
  }

  private async run(archiveId: string, context: JobContext, upstream: HostSlot | null): Promise<void> {
    const claim = await this.claim(archiveId);
    if (!claim) return;
    const signal = AbortSignal.any([context.signal, claim.signal]);
    let writer: SnapshotWriter | undefined;
    let workDir: string | undefined;
    try {
      // Every failure from here on — even creating the work dir — goes through fail().
      if (claim.archive.attempts > this.config.worker.maxRuns) return await this.giveUp(claim);
      await this.removeEarlierRun(claim.archive);
      const located = await this.locate(claim);
      writer = new SnapshotWriter(this.store, { bucket: located.bucket, prefix: located.prefix }, { signal });
      workDir = await this.workDirs.create(archiveId, claim.runId);
      await this.snapshot(located, claim, writer, workDir, signal, upstream);
    } catch (error) {
      // The temp dir goes before the outcome is recorded: a settled archive leaves nothing behind.
      if (workDir) await this.removeWorkDir(workDir);
      await this.fail(claim, writer, error, context, signal);
    } finally {
      await claim.end({ release: true });
      if (workDir) await this.removeWorkDir(workDir);
    }
  }

  /** A failed removal does not change the run's outcome; it is logged, and a worker starting on this host after this process has gone sweeps the dir. */
  private async removeWorkDir(dir: string): Promise<void> {
    await this.workDirs.remove(dir).catch((error: unknown) => {
      this.logger.warn({ msg: 'could not remove the run’s work dir', dir, error: (error as Error).message });
    });
  }

  /** The run's claim, or null when there is nothing to do (finished, or deleted). */
  private async claim(archiveId: string): Promise<RunClaim | null> {
    const runId = randomUUID();
    const { leaseMs } = this.config.worker;
    try {
      const archive = await this.archives.claimRun(archiveId, runId, leaseMs, new Date());
      if (archive) return new RunClaim(this.archives, archive, runId, leaseMs);
      const why = await this.archives.describeClaim(archiveId);
      if (why.state === 'held') {
        // Another run is alive (e.g. this job was handed on after Redis lost its lock): wait for it.
        const untilExpiry = (why.until?.getTime() ?? Date.now()) - Date.now();
        throw new RetryLaterError('another run holds the archive', Math.max(1_000, untilExpiry + 1_000));
      }
      if (why.state === 'maintenance') {
        // A prune of the repository holds its lease: the visit waits for it, it does not fail.
        const untilExpiry = (why.until?.getTime() ?? Date.now()) - Date.now();
        throw new RetryLaterError('a prune of the repository is running', Math.min(5_000, Math.max(1_000, untilExpiry)));
      }
      if (why.state === 'claimable') throw new RetryLaterError('the claim raced another run', 1_000);
      this.logger.log({ msg: 'archive not runnable; skipping', state: why.state });
      return null;
    } catch (error) {
      if (error instanceof RetryLaterError) throw error;
      const failure = describeFailure(error);
      if (failure.infrastructure) throw new RetryLaterError(failure.message, INFRASTRUCTURE_RETRY_MS, { cause: error });
      throw error;
    }
  }

  private async giveUp(claim: RunClaim): Promise<void> {
    // A failed archive holds nothing in the bucket, and no later run would remove what is left.
    await this.removeEarlierRun(claim.archive);
    const { maxRuns } = this.config.worker;
    const last = claim.archive.error ? ` The last recorded problem: ${claim.archive.error}` : '';
    const message = `Gave up after ${maxRuns} runs that did not finish (the worker crashed, was stopped or lost contact with the database or Redis each time).${last}`;
    if (await this.archives.markRunFailed(claim.archive.id, claim.runId, 'RUNS_EXHAUSTED', message, new Date())) {
      await this.recordVisitOutcome(claim.archive, { kind: 'failed', code: 'RUNS_EXHAUSTED', message });
    }
    this.logger.warn({ msg: 'archive failed', code: 'RUNS_EXHAUSTED' });
  }

  /** What an earlier run of this archive may have left (it crashed, or lost its claim) goes first. */
  private async removeEarlierRun(archive: ArchiveRecord): Promise<void> {
    if (archive.bucket && archive.prefix) await this.store.removeSnapshotPrefix(archive.bucket, archive.prefix);
  }

  /** Each run writes under a prefix of its own, so two runs can never delete each other's files. */
  private async locate(claim: RunClaim): Promise<Located> {
    const { archive, runId } = claim;
    const located = await this.archives.setSnapshotLocation(
      archive.id,
      runId,
      bucketNameFor(archive.normalizedUrl),
      snapshotPrefix(new Date(), archive.id, runId),
    );
    if (!located) throw new ClaimLostError();
    return located as Located;
  }

  private async snapshot(
    archive: Located,
    claim: RunClaim,
    writer: SnapshotWriter,
    workDir: string,
    signal: AbortSignal,
    upstream: HostSlot | null,
  ): Promise<void> {
    // A private repository's credential goes to every git network call of this visit, and nowhere else.
    const credential = await this.credentials.forVisit(archive.repositoryId, archive.id);
    if (await this.endUnchanged(archive, claim, writer, workDir, signal, credential)) return;
    // The last mirror of this repository brought up to date, or a full clone: refs equal the remote's either way.
    const mirror = await this.obtainMirror({ ...archive, credential }, workDir, signal);
    const { gitDir } = mirror;
    const reader = new RepositoryReader(gitDir);
    const head = await reader.head({ signal });
    const { refs, commit } = head;
    await this.store.ensureBucket(archive.bucket);
    // LFS objects come from the upstream too (its batch API): fetched within this visit's slot on
    // the host, so an import of many LFS repositories stays within MAX_CLONES_PER_HOST as well.
    const lfs = await this.lfs.archive({
      bucket: archive.bucket,
      url: archive.url,
      credential,
      reader,
      commit,
      refs,
      repositoryBytes: await directorySize(gitDir),
      signal,
    });
    // The upstream is done with (probe, clone, LFS); reading and uploading need no slot on it.
    await upstream?.release();
    const previous = await this.previousSnapshot(archive, signal);
    const changes = await this.refChanges(previous, reader, refs, signal);
    const visit: VisitOutcome = { outcome: 'changed', refsHash: refsHash(refs), ...(changes && { changes }) };

    // Blobs and tree listings the previous snapshot stored are neither read nor uploaded again.
    const trees = commit ? await reader.trees(commit, { signal }) : null;
    const stored = await this.storedBefore(archive, previous, trees);
    const { uploadConcurrency: concurrency } = this.config.worker;
    const files = trees
      ? await writer.storeTree(treeFiles(trees), (entries) => toSources(reader, entries, signal), { concurrency, known: stored.blobs })
      : [];
    if (trees) await writer.storeTreeListings(trees, stored.trees, concurrency);
    signal.throwIfAborted();
    const bundles = await storeSnapshotBundle(archive.id, reader, refs, await this.bundlePlan(archive, previous), writer, workDir, signal);
    signal.throwIfAborted();

    const finishedAt = new Date();
    const byteCount = files.reduce((sum, f) => sum + f.size, 0);
    const manifest: SnapshotManifest = {
      version: 4,
      url: archive.url,
      normalizedUrl: archive.normalizedUrl,
      archiveId: archive.id,
      ...manifestHeadFields(head),
      tree: trees?.root ?? null,
      fileCount: files.length,
      byteCount,
      mappedPathCount: mappedPathCount(files),
      ...bundles,
      timestamps: manifestTimestamps(archive, finishedAt),
      outcome: visit.outcome,
      ...(visit.refsHash !== null && { refsHash: visit.refsHash }),
      ...(lfs && { lfs }),
    };
    await this.complete(
      archive,
      claim,
      writer,
      manifest,
      {
        commit,
        refCount: refs.length,
        fileCount: files.length,
        byteCount: BigInt(byteCount),
      },
      visit,
    );
    // Only a mirror whose refs a completed manifest records may serve the next visit.
    await this.mirrors.giveBack(mirror);
    await this.workDirs.remove(workDir);
    this.logger.log({
      msg: commit ? 'archived' : 'archived an empty repository (no commits, no files)',
      bucket: archive.bucket,
      prefix: archive.prefix,
      files: files.length,
      bytes: byteCount,
      ...writer.counts,
      listings: writer.listingCounts,
    });
  }

  /**
   * What the repository's previous completed snapshot stored of this commit's trees and blobs
   * (storedBefore: only its listings of directories that changed are read); nothing when it is
   * unreadable, in another bucket or from before listings (v2/v3: its blobs only).
   */
  private async storedBefore(archive: Located, previous: PreviousSnapshot | null, trees: CommitTrees | null): Promise<StoredBefore> {
    const nothing: StoredBefore = { trees: new Set(), blobs: new Map() };
    if (!trees || !previous?.manifest || previous.record.bucket !== archive.bucket) return nothing;
    try {
      const content = await contentManifestOf(this.store, archive.bucket, previous.manifest);
      if (!listsFilesByTree(content)) return { trees: new Set(), blobs: await objectsReferencedBy(content.files ?? []) };
      if (!content.tree) return nothing;
      return await storedBefore(bucketListings(this.store, archive.bucket), content.tree, trees);
    } catch (error) {
      // Not knowing only costs requests: every blob and listing is then checked against the bucket.
      this.logger.warn({ msg: 'previous snapshot unreadable; checking every blob and listing', error: (error as Error).message });
      return nothing;
    }
  }

  /**
   * After the snapshot is complete and recorded, `latest/` is made to show it. Only a
   * convenience for the console: a failure is logged, the visit stands, the next one repairs it.
   */
  private async refreshLatest(bucket: string, prefix: string): Promise<void> {
    try {
      const update = await new LatestView(this.store).show(bucket, prefix);
      if (update.changed) this.logger.log({ msg: 'latest/ view updated', bucket, copied: update.copied, removed: update.removed });
    } catch (error) {
      this.logger.warn({ msg: 'could not update the latest/ view; the next visit repairs it', bucket, error: (error as Error).message });
    }
  }

  /**
   * Ends the visit `unchanged` when the remote's refs (and HEAD) are exactly those of the
   * repository's previous completed visit: no clone, no files, no bundle, only a manifest with
   * the probed refs that points at the snapshot holding the content. False means "clone": there
   * is nothing to compare with, something moved, or the probe failed (the clone's own errors
   * then say what is wrong with the remote).
   */
  private async endUnchanged(
    archive: Located,
    claim: RunClaim,
    writer: SnapshotWriter,
    workDir: string,
    signal: AbortSignal,
    credential: RemoteCredential | undefined,
  ): Promise<boolean> {
    const previous = await this.archives.findPreviousCompletedVisit(archive.repositoryId, archive.id);
    // Another bucket would need the content copied; a visit without a hash predates the probe.
    if (!previous?.refsHash || !previous.prefix || previous.bucket !== archive.bucket) return false;
    const remote = await this.probe(archive, workDir, signal, credential);
    if (!remote || remote.refsHash !== previous.refsHash) return false;
    let before: SnapshotManifest;
    try {
      before = await readSnapshotManifest(this.store, archive.bucket, previous.prefix);
    } catch (error) {
      signal.throwIfAborted();
      this.logger.warn({ msg: 'previous manifest unreadable; cloning', previous: previous.id, error: (error as Error).message });
      return false;
    }
    // refsHash leaves HEAD out; a HEAD moved to another branch changes which tree is stored.
    if (!sameHeadBranch(remote, before) && !stillEmpty(remote, before)) return false;
    // Git LFS objects missing last time may be on the server now: only a changed visit fetches them.
    if (((await contentManifestOf(this.store, archive.bucket, before).catch(() => before)).lfs?.missingCount ?? 0) > 0) return false;

    const finishedAt = new Date();
    const manifest: SnapshotManifest = {
      version: 4,
      url: archive.url,
      normalizedUrl: archive.normalizedUrl,
      archiveId: archive.id,
      commit: before.commit,
      commitSource: before.commitSource,
      ...(before.commitSourceBase64 !== undefined && { commitSourceBase64: before.commitSourceBase64 }),
      defaultBranch: before.defaultBranch,
      ...(before.defaultBranchBase64 !== undefined && { defaultBranchBase64: before.defaultBranchBase64 }),
      tree: null,
      fileCount: before.fileCount,
      byteCount: before.byteCount,
      mappedPathCount: before.mappedPathCount,
      bundle: null,
      timestamps: manifestTimestamps(archive, finishedAt),
      empty: before.empty,
      outcome: 'unchanged',
      refsHash: remote.refsHash,
      unchanged: true,
      contentFrom: contentSnapshotOf(before, previous.prefix),
    };
    const stats = { commit: before.commit, refCount: remote.refs.length, fileCount: before.fileCount, byteCount: BigInt(before.byteCount) };
    const changes = { sinceId: previous.id, refs: [], summary: summarizeRefChanges([]) };
    await this.complete(archive, claim, writer, manifest, stats, { outcome: 'unchanged', refsHash: remote.refsHash, changes });
    this.logger.log({
      msg: 'archived unchanged (refs as at the previous visit)',
      bucket: archive.bucket,
      prefix: archive.prefix,
      contentFrom: manifest.contentFrom,
    });
    return true;
  }

  /**
   * The repository's previous completed snapshot and its manifest (null when unreadable: logged,
   * and what depends on it — ref changes, an increment — is then not built on it).
   */
  private async previousSnapshot(archive: Located, signal: AbortSignal): Promise<PreviousSnapshot | null> {
    const record = await this.archives.findPreviousCompletedVisit(archive.repositoryId, archive.id);
    if (!record) return null;
    try {
      const manifest = await readSnapshotManifest(this.store, record.bucket!, record.prefix!);
      return { record, manifest, refs: await readManifestRefs(this.store, record.bucket!, manifest) };
    } catch (error) {
      signal.throwIfAborted();
      this.logger.warn({ msg: 'previous manifest unreadable', previous: record.id, error: (error as Error).message });
      return { record, manifest: null, refs: null };
    }
  }

  /**
   * How the refs moved since the previous completed snapshot, ancestry checked in this clone
   * (it holds every ancestor of its refs, so an old commit it lacks was rewritten away).
   * Undefined when the previous snapshot's refs cannot be read: the visit still completes, and
   * the changes API reports the range as unknown rather than guess.
   */
  private async refChanges(
    previous: PreviousSnapshot | null,
    reader: RepositoryReader,
    refs: GitRef[],
    signal: AbortSignal,
  ): Promise<VisitRefChanges | undefined> {
    if (previous && !previous.refs) return undefined;
    const changed = await diffRefs(refsOfManifest(previous?.refs ?? []), refs, (pairs) => reader.fastForwards(pairs, { signal }));
    return { sinceId: previous?.record.id ?? null, refs: changed, summary: summarizeRefChanges(changed) };
  }

  /** An increment builds on the previous snapshot's bundles when they are in this bucket and readable. */
  private async bundlePlan(archive: Located, previous: PreviousSnapshot | null): Promise<BundlePlan> {
    const limits = this.config.bundles;
    if (!previous?.manifest || !previous.refs || previous.record.bucket !== archive.bucket)
      return { chainBefore: [], prerequisites: [], limits };
    try {
      const chainBefore = await readBundleChain(this.store, archive.bucket, previous.record.prefix!, previous.manifest);
      return { chainBefore, prerequisites: previous.refs.map((ref) => ref.sha), limits };
    } catch (error) {
      this.logger.warn({ msg: 'previous bundle chain unreadable; storing a full bundle', error: (error as Error).message });
      return { chainBefore: [], prerequisites: [], limits };
    }
  }

  /** The remote's refs, or null when listing them failed (logged; the clone decides what it means). */
  private async probe(archive: Located, workDir: string, signal: AbortSignal, credential?: RemoteCredential): Promise<RemoteRefs | null> {
    try {
      return await this.cloner.listRemoteRefs({
        url: archive.url,
        deadlineMs: this.config.clone.timeoutMs,
        signal,
        scratchDir: workDir,
        credential,
      });
    } catch (error) {
      signal.throwIfAborted();
      // A host that asks us to wait is not cloned from instead: the visit waits (fail()).
      if (GitError.isGitError(error, GitErrorCode.RATE_LIMITED)) throw error;
      this.logger.warn({ msg: 'change probe failed; cloning', error: (error as Error).message });
      return null;
    }
  }

  /**
   * The manifest makes the snapshot complete, so it is written only while this run provably
   * holds the archive, and taken back if the archive turns out not to be this run's.
   */
  /** The mirror for this visit (MirrorCache), timed and measured for the clone metrics. */
  private async obtainMirror(visit: MirrorVisit, workDir: string, signal: AbortSignal): Promise<MirrorLease> {
    const started = performance.now();
    const mirror = await this.mirrors.obtain(visit, workDir, signal);
    this.metrics.cloned(mirror.via, (performance.now() - started) / 1000, await directorySize(mirror.gitDir));
    return mirror;
  }

  private async complete(
    archive: Located,
    claim: RunClaim,
    writer: SnapshotWriter,
    manifest: SnapshotManifest,
    stats: Parameters<ArchiveRepository['markCompleted']>[2],
    visit: VisitOutcome,
  ): Promise<void> {
    await claim.confirm();
    await writer.writeManifest(manifest);
    let completed: ArchiveRecord | null;
    try {
      completed = await this.archives.markCompleted(archive.id, claim.runId, stats, new Date(manifest.timestamps.finishedAt), visit);
    } catch (error) {
      // Unknown whether the update committed. The snapshot stays: if it did not, the next run
      // of this archive removes this run's prefix (removeEarlierRun) before anything else.
      throw new RetryLaterError(`could not record the completed snapshot: ${(error as Error).message}`, INFRASTRUCTURE_RETRY_MS, {
        cause: error,
      });
    }
    if (!completed) throw new ClaimLostError();
    this.metrics.uploaded(writer.counts);
    await this.recordVisitOutcome(completed, { kind: 'completed', outcome: completed.outcome ?? 'changed' });
    await this.refreshLatest(archive.bucket, archive.prefix);
  }

  /**
   * Tells the scheduler (and the metrics) how the visit went. The archive is settled already, and
   * the worst a lost outcome does is leave the repository's schedule as the claim set it (due
   * again one interval later), so a failure here is logged and never fails the archive. The
   * notifications go out after it, from the repository as the outcome left it.
   */
  private async recordVisitOutcome(archive: ArchiveRecord, result: VisitResult): Promise<void> {
    this.metrics.visitEnded(archive, result, archive.finishedAt ?? new Date());
    let repository = null;
    try {
      repository = await this.repositories.recordVisitOutcome(archive.repositoryId, result, this.config.schedule);
    } catch (error) {
      this.logger.warn({ msg: 'could not record the visit outcome on its repository', error: (error as Error).message });
    }
    await this.notifier.visitSettled(archive, result, repository);
  }

  /**
   * The upstream host asked us to slow down: every worker leaves it alone for as long as it asked,
   * and this visit goes back to `queued` as if it had not run — a rate limit is neither a failure
   * nor a run used up, and never counts toward disabling the repository.
   */
  private async waitForHost(claim: RunClaim, refusal: GitError): Promise<RetryLaterError> {
    const later = await this.politeness.backOff(claim.archive.url, refusal).catch((error: Error) => {
      // Not recorded (Redis unreachable): this visit still waits; other visits of the host find out themselves.
      this.logger.warn({ msg: 'could not record the host backoff', error: error.message });
      return new RetryLaterError(refusal.message, this.config.politeness.backoffMinMs, { cause: refusal });
    });
    try {
      await this.archives.requeueRun(claim.archive.id, claim.runId);
    } catch (error) {
      // The run's release (archive()) still lets the next run take it; it is counted as a run then.
      this.logger.warn({ msg: 'could not put the archive back to queued', error: (error as Error).message });
    }
    return later;
  }

  private async fail(
    claim: RunClaim,
    writer: SnapshotWriter | undefined,
    error: unknown,
    context: JobContext,
    signal: AbortSignal,
  ): Promise<never> {
    const archiveId = claim.archive.id;
    if (error instanceof RetryLaterError) throw error;
    // Nothing half-written may look complete: the writer removes the manifest first, then the rest.
    await writer
      ?.abort()
      .catch((cleanup: Error) => this.logger.warn({ msg: 'could not remove a partial snapshot', error: cleanup.message }));
    if (signal.aborted || error instanceof ClaimLostError) {
      const reason = signal.aborted ? String(signal.reason) : (error as Error).message;
      throw new RetryLaterError(`run interrupted: ${reason}`, 1_000, { cause: error });
    }
    if (GitError.isGitError(error, GitErrorCode.RATE_LIMITED)) throw await this.waitForHost(claim, error);
    const failure = describeFailure(error);
    if (failure.infrastructure) {
      this.logger.warn({ msg: 'infrastructure unavailable; run postponed', code: failure.code, error: failure.message });
      throw new RetryLaterError(failure.message, INFRASTRUCTURE_RETRY_MS, { cause: error });
    }
    try {
      if (failure.transient && !context.lastAttempt) {
        const retryInS = Math.round((5_000 * 2 ** (context.attempt - 1)) / 1000);
        const message = `Attempt ${context.attempt} of ${context.maxAttempts} failed: ${failure.message}. Retrying in about ${retryInS} s`;
        await this.archives.recordAttemptError(archiveId, claim.runId, failure.code, message);
        this.logger.warn({
          msg: 'attempt failed; will retry',
          attempt: context.attempt,
          code: failure.code,
          error: failure.message,
        });
        throw error;
      }
      const message = failure.transient ? `${failure.message} (gave up after ${context.attempt} attempts)` : failure.message;
      if (!(await this.archives.markRunFailed(archiveId, claim.runId, failure.code, message, new Date()))) {
        throw new RetryLaterError('the archive is no longer held by this run', 1_000);
      }
      await this.recordVisitOutcome(claim.archive, { kind: 'failed', code: failure.code, message });
      this.logger.warn({ msg: 'archive failed', code: failure.code, error: message });
      throw new PermanentJobError(`${failure.code}: ${message}`);
    } catch (recording) {
      if (recording === error || recording instanceof PermanentJobError || recording instanceof RetryLaterError) throw recording;
      // The outcome could not be recorded (database down): run again later rather than lose it.
      throw new RetryLaterError(`could not record the failure: ${(recording as Error).message}`, INFRASTRUCTURE_RETRY_MS, {
        cause: recording,
      });
    }
  }
}

function manifestTimestamps(archive: ArchiveRecord, finishedAt: Date): SnapshotManifest['timestamps'] {
  return {
    createdAt: archive.createdAt.toISOString(),
    injectedAt: (archive.injectedAt ?? archive.startedAt ?? finishedAt).toISOString(),
    startedAt: (archive.startedAt ?? finishedAt).toISOString(),
    finishedAt: finishedAt.toISOString(),
  };
}

/** Whether the remote's HEAD names the branch the previous snapshot's HEAD named (exact bytes). */
function sameHeadBranch(remote: RemoteRefs, before: SnapshotManifest): boolean {
  const target = remote.head?.target ? exactText(remote.head.target.nameBytes) : null;
  return (target?.text ?? null) === before.defaultBranch && target?.base64 === before.defaultBranchBase64;
}

/**
 * Whether an empty repository is still empty. Its probe shows no HEAD at all (ls-remote does not
 * ask for an unborn one) where its clone named HEAD's unborn branch, so sameHeadBranch never
 * holds; with no refs there is nothing HEAD could lead to, and no content that could differ.
 */
function stillEmpty(remote: RemoteRefs, before: SnapshotManifest): boolean {
  return remote.refs.length === 0 && remote.head === null && (before.refs ?? []).length === 0 && before.commit === null;
}

async function* toSources(
  reader: RepositoryReader,
  entries: readonly SnapshotTreeFile[],
  signal: AbortSignal,
): AsyncGenerator<SnapshotFileSource> {
  for await (const { entry, size, stream } of reader.blobs(entries, { signal })) {
    yield { pathBytes: entry.pathBytes, size, mode: entry.mode, sha: entry.sha, stream };
  }
}

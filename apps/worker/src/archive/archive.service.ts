import { Inject, Injectable, Logger } from '@nestjs/common';
import path from 'node:path';
import { APP_CONFIG, AppConfig } from '@archiver/config';
import { ArchiveRecord, ArchiveRepository } from '@archiver/database';
import { RepositoryReader, SafeCloner } from '@archiver/git';
import { JobContext, PermanentJobError } from '@archiver/queue';
import {
  bucketNameFor,
  manifestHeadFields,
  mappedPathCount,
  ObjectStoreRepository,
  SnapshotFileSource,
  SnapshotManifest,
  snapshotPrefix,
  SnapshotWriter,
} from '@archiver/storage';
import { WorkDirs } from '../clone/work-dir';
import { describeFailure } from './archive-failure';

type Located = ArchiveRecord & { bucket: string; prefix: string };

/**
 * One archive, start to finish: stamp, clone bare into a temp dir, store files + bundle +
 * manifest (last) in the repository's bucket, stamp again. Every attempt of the same
 * archive writes to the same prefix, so a retry replaces — never adds — a snapshot.
 */
@Injectable()
export class ArchiveService {
  private readonly logger = new Logger(ArchiveService.name);
  readonly workDirs: WorkDirs;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly archives: ArchiveRepository,
    private readonly store: ObjectStoreRepository,
    private readonly cloner: SafeCloner,
  ) {
    this.workDirs = new WorkDirs(config.clone.workDir);
  }

  async archive(archiveId: string, context: JobContext): Promise<void> {
    const running = await this.archives.markRunning(archiveId, new Date());
    if (!running) {
      // Already completed or failed (a duplicate delivery), or deleted: nothing to do.
      this.logger.log({ msg: 'archive not runnable; skipping', archiveId });
      return;
    }
    const located = (await this.archives.claimSnapshotLocation(
      archiveId,
      bucketNameFor(running.normalizedUrl),
      snapshotPrefix(running.startedAt ?? new Date(), archiveId),
    )) as Located;
    const writer = new SnapshotWriter(this.store, { bucket: located.bucket, prefix: located.prefix });
    const workDir = await this.workDirs.create(archiveId);
    try {
      await this.snapshot(located, writer, workDir);
    } catch (error) {
      await this.fail(located, writer, error, context);
    } finally {
      await this.workDirs.remove(workDir);
    }
  }

  private async snapshot(archive: Located, writer: SnapshotWriter, workDir: string): Promise<void> {
    const { gitDir } = await this.cloner.clone({
      url: archive.url,
      dir: path.join(workDir, 'repo.git'),
      deadlineMs: this.config.clone.timeoutMs,
      maxBytes: this.config.clone.maxBytes,
    });
    const reader = new RepositoryReader(gitDir);
    const head = await reader.head();
    const { refs, commit } = head;

    await this.store.ensureBucket(archive.bucket);
    // Leftovers of an earlier attempt at this same snapshot go first.
    await this.store.removePrefix(archive.bucket, archive.prefix);
    await this.store.removeIncompleteUploads(archive.bucket, archive.prefix);

    const files = commit
      ? await writer.uploadFiles(toSources(reader, await reader.listTree(commit)), { concurrency: this.config.worker.uploadConcurrency })
      : [];
    const bundleFile = await reader.createBundle(path.join(workDir, 'repo.bundle'), refs);
    const bundle = bundleFile ? await writer.uploadBundle(bundleFile.path) : null;

    const finishedAt = new Date();
    const byteCount = files.reduce((sum, f) => sum + f.size, 0);
    const manifest: SnapshotManifest = {
      version: 2,
      url: archive.url,
      normalizedUrl: archive.normalizedUrl,
      archiveId: archive.id,
      ...manifestHeadFields(head),
      files,
      fileCount: files.length,
      byteCount,
      mappedPathCount: mappedPathCount(files),
      bundle,
      timestamps: {
        createdAt: archive.createdAt.toISOString(),
        injectedAt: (archive.injectedAt ?? archive.startedAt ?? finishedAt).toISOString(),
        startedAt: (archive.startedAt ?? finishedAt).toISOString(),
        finishedAt: finishedAt.toISOString(),
      },
    };
    await writer.writeManifest(manifest);
    await this.archives.markCompleted(
      archive.id,
      { commit, refCount: refs.length, fileCount: files.length, byteCount: BigInt(byteCount) },
      finishedAt,
    );
    this.logger.log({
      msg: commit ? 'archived' : 'archived an empty repository (no commits, no files)',
      archiveId: archive.id,
      bucket: archive.bucket,
      prefix: archive.prefix,
      files: files.length,
      bytes: byteCount,
    });
  }

  private async fail(archive: Located, writer: SnapshotWriter, error: unknown, context: JobContext): Promise<never> {
    const failure = describeFailure(error);
    // Nothing half-written may look complete: the manifest is removed first, then the rest.
    await writer
      .abort()
      .catch((cleanup: Error) =>
        this.logger.warn({ msg: 'could not remove a partial snapshot', archiveId: archive.id, error: cleanup.message }),
      );
    if (failure.transient && !context.lastAttempt) {
      await this.archives.recordAttemptError(archive.id, failure.code, `Attempt ${context.attempt} failed: ${failure.message}`);
      this.logger.warn({
        msg: 'attempt failed; will retry',
        archiveId: archive.id,
        attempt: context.attempt,
        code: failure.code,
        error: failure.message,
      });
      throw error;
    }
    await this.archives.markFailed(archive.id, failure.code, failure.message, new Date());
    this.logger.warn({ msg: 'archive failed', archiveId: archive.id, code: failure.code, error: failure.message });
    throw new PermanentJobError(`${failure.code}: ${failure.message}`);
  }
}

async function* toSources(
  reader: RepositoryReader,
  entries: Awaited<ReturnType<RepositoryReader['listTree']>>,
): AsyncGenerator<SnapshotFileSource> {
  for await (const { entry, size, stream } of reader.blobs(entries)) {
    yield { pathBytes: entry.pathBytes, size, mode: entry.mode, sha: entry.sha, stream };
  }
}

import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@archiver/config';
import { ArchiveRepository, TrackedRepositoryRepository, UnsettledArchive, WebhookRepository } from '@archiver/database';
import { LIVE_JOB_STATES, QueueName, QueueRepository } from '@archiver/queue';
import { ObjectStoreRepository } from '@archiver/storage';
import { PeriodicTask } from '../periodic/periodic-task';

const BATCH = 500;

/** What one pass did, for logs and tests. */
export interface ReconcileReport {
  requeued: number;
  failed: number;
  /** Webhook deliveries still pending whose job was gone, queued again. */
  deliveriesRequeued: number;
}

/**
 * Makes sure every archive that has not ended has a job that will run it. Jobs get lost in
 * many ways: the frontend's dual write (row in Postgres, job in Redis) with Redis down, a
 * process killed between the two, jobs that used up their attempts while the database was
 * down (their failed job still holds the archive's id, so a plain re-add is ignored), a
 * worker killed mid-run, a wiped Redis. For each archive unchanged for a reconcile interval:
 * pending or queued without a live job → its job again; running with no live lease and no
 * live job → its job again, or failed once it has used up its runs (and what its last run
 * left in the bucket removed). Job ids are archive ids and claims are fenced in the database,
 * so several injectors may run this at once. Webhook deliveries get the same care: one still
 * pending a reconcile interval after it was written, with no live job, gets its job again.
 */
@Injectable()
export class ReconcileService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ReconcileService.name);
  private readonly task: PeriodicTask;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly archives: ArchiveRepository,
    private readonly queues: QueueRepository,
    private readonly store: ObjectStoreRepository,
    private readonly repositories: TrackedRepositoryRepository,
    private readonly webhooks: WebhookRepository,
  ) {
    this.task = new PeriodicTask(this.logger, 'reconciled archives', config.reconcileIntervalMs, () =>
      this.reconcile().then((r) => ({ ...r })),
    );
  }

  onApplicationBootstrap(): void {
    this.task.start();
  }

  onApplicationShutdown(): void {
    this.task.stop();
  }

  /** One pass over every unsettled archive. */
  async reconcile(now = new Date()): Promise<ReconcileReport> {
    const before = new Date(now.getTime() - this.config.reconcileIntervalMs);
    const report: ReconcileReport = { requeued: 0, failed: 0, deliveriesRequeued: 0 };
    for (let afterId: string | undefined; ;) {
      const batch = await this.archives.findUnsettled(before, BATCH, afterId);
      for (const archive of batch) await this.repair(archive, report);
      if (batch.length < BATCH) break;
      afterId = batch[batch.length - 1]?.id;
    }
    report.deliveriesRequeued = await this.requeueDeliveries(before);
    return report;
  }

  private async requeueDeliveries(before: Date): Promise<number> {
    let requeued = 0;
    for (let afterId: string | undefined; ;) {
      const batch = await this.webhooks.findPendingDeliveries(before, BATCH, afterId);
      for (const deliveryId of batch) if (await this.queues.ensureJob(QueueName.WebhookDelivery, { deliveryId })) requeued++;
      if (batch.length < BATCH) return requeued;
      afterId = batch[batch.length - 1];
    }
  }

  private async repair(archive: UnsettledArchive, report: ReconcileReport): Promise<void> {
    const payload = { archiveId: archive.id };
    if (archive.status === 'pending') {
      if (await this.queues.ensureJob(QueueName.Pending, payload)) report.requeued++;
      return;
    }
    if (archive.status === 'queued') {
      if (await this.queues.ensureJob(QueueName.Archive, payload)) report.requeued++;
      return;
    }
    // running: a live lease means a run is at work; a live job will claim it when due.
    if (archive.leaseLive) return;
    if (archive.attempts >= this.config.worker.maxRuns && !(await this.hasLiveJob(archive.id))) {
      if (await this.giveUp(archive)) report.failed++;
      return;
    }
    if (await this.queues.ensureJob(QueueName.Archive, payload)) report.requeued++;
  }

  /**
   * Fails an archive that used up its runs. What its last run left under its prefix goes first:
   * a failed archive holds nothing in the bucket, and no later run would remove it. When that
   * cannot be done (object storage down) the archive stays as it is until a later pass.
   */
  private async giveUp(archive: UnsettledArchive): Promise<boolean> {
    const row = await this.archives.findById(archive.id);
    if (row?.bucket && row.prefix) {
      try {
        await this.store.removeSnapshotPrefix(row.bucket, row.prefix);
      } catch (error) {
        this.logger.warn({ msg: 'could not remove what the last run left; failing it on a later pass', error: (error as Error).message });
        return false;
      }
    }
    const code = 'RUNS_EXHAUSTED';
    const message = `Gave up after ${archive.attempts} runs that did not finish (the worker crashed, was stopped or lost contact with the database or Redis each time)`;
    const failed = await this.archives.markFailed(archive.id, code, message, new Date());
    if (!failed) return false;
    // As the worker does when it gives up; the archive has failed whatever happens to this.
    await this.repositories
      .recordVisitOutcome(failed.repositoryId, { kind: 'failed', code, message }, this.config.schedule)
      .catch((error: Error) => this.logger.warn({ msg: 'could not record the visit outcome on its repository', error: error.message }));
    return true;
  }

  private async hasLiveJob(archiveId: string): Promise<boolean> {
    return LIVE_JOB_STATES.has(await this.queues.jobState(QueueName.Archive, archiveId));
  }
}

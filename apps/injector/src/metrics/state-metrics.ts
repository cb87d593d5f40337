import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@archiver/config';
import { OperationsRepository, type OperationsSnapshot } from '@archiver/database';
import { MetricsRegistry } from '@archiver/metrics';
import { QueueName, QueueRepository } from '@archiver/queue';

const ARCHIVE_STATUSES = ['pending', 'queued', 'running', 'completed', 'failed'] as const;
const REPOSITORY_STATES = ['active', 'paused', 'disabled'] as const;
const JOB_STATES = ['waiting', 'active', 'delayed', 'failed', 'completed'] as const;

/**
 * The system's state as gauges, read from Postgres and Redis when Prometheus scrapes. Only the
 * injector exports them (one process of it runs), so a sum over apps never counts them twice;
 * counters of what happened (visits, bytes uploaded) come from the workers that did it.
 * A failed read leaves the last values and sets `archiver_state_read_ok` to 0, which an alert
 * watches: the scrape itself still succeeds, so process metrics keep flowing.
 */
@Injectable()
export class StateMetrics {
  private readonly logger = new Logger(StateMetrics.name);
  private reading?: Promise<OperationsSnapshot | null>;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly operations: OperationsRepository,
    private readonly queues: QueueRepository,
    metrics: MetricsRegistry,
  ) {
    const state = () => this.read();
    const jobs = queues;
    metrics.gauge({
      name: 'archiver_state_read_ok',
      help: '1 when the last read of the database state for these gauges worked',
      collect: async function () {
        this.set((await state()) ? 1 : 0);
      },
    });
    metrics.gauge({
      name: 'archiver_archives',
      help: 'Archives (visits) by status',
      labelNames: ['status'],
      collect: async function () {
        const snapshot = await state();
        if (snapshot) for (const status of ARCHIVE_STATUSES) this.set({ status }, snapshot.archivesByStatus[status] ?? 0);
      },
    });
    metrics.gauge({
      name: 'archiver_repositories',
      help: 'Tracked repositories by state',
      labelNames: ['state'],
      collect: async function () {
        const snapshot = await state();
        if (snapshot) for (const s of REPOSITORY_STATES) this.set({ state: s }, snapshot.repositoriesByState[s] ?? 0);
      },
    });
    metrics.gauge({
      name: 'archiver_repositories_overdue',
      help: `Active repositories whose visit has been due for longer than OVERDUE_AFTER_SECONDS`,
      collect: async function () {
        const snapshot = await state();
        if (snapshot) this.set(snapshot.overdueRepositories);
      },
    });
    metrics.gauge({
      name: 'archiver_repository_max_staleness_seconds',
      help: 'The longest any active repository has gone without a completed visit',
      collect: async function () {
        const snapshot = await state();
        if (snapshot) this.set(snapshot.maxStalenessSeconds);
      },
    });
    metrics.gauge({
      name: 'archiver_snapshot_files',
      help: 'Files in the content of all completed snapshots that stored content (before deduplication)',
      collect: async function () {
        const snapshot = await state();
        if (snapshot) this.set(snapshot.snapshotFiles);
      },
    });
    metrics.gauge({
      name: 'archiver_snapshot_bytes',
      help: 'Bytes of the content of all completed snapshots that stored content (before deduplication)',
      collect: async function () {
        const snapshot = await state();
        if (snapshot) this.set(snapshot.snapshotBytes);
      },
    });
    const logger = this.logger;
    metrics.gauge({
      name: 'archiver_queue_jobs',
      help: 'BullMQ jobs by queue and state',
      labelNames: ['queue', 'state'],
      collect: async function () {
        for (const queue of Object.values(QueueName)) {
          try {
            const counts = await jobs.counts(queue);
            for (const s of JOB_STATES) this.set({ queue, state: s }, counts[s] ?? 0);
          } catch (error) {
            logger.warn({ msg: 'could not count jobs for metrics', queue, error: (error as Error).message });
          }
        }
      },
    });
    metrics.gauge({
      name: 'archiver_queue_oldest_waiting_seconds',
      help: 'How long the oldest job ready to run has waited, by queue (0 when none waits)',
      labelNames: ['queue'],
      collect: async function () {
        for (const queue of Object.values(QueueName)) {
          try {
            this.set({ queue }, (await jobs.oldestWaitingAgeMs(queue)) / 1000);
          } catch (error) {
            logger.warn({ msg: 'could not read the oldest job for metrics', queue, error: (error as Error).message });
          }
        }
      },
    });
  }

  /** One read per scrape however many gauges ask: the first asks, the others share its answer. */
  private read(): Promise<OperationsSnapshot | null> {
    this.reading ??= this.operations
      .snapshot(this.config.metrics.overdueAfterSeconds)
      .catch((error: Error) => {
        this.logger.warn({ msg: 'could not read the state for metrics', error: error.message });
        return null;
      })
      .finally(() => setTimeout(() => (this.reading = undefined), 1000).unref());
    return this.reading;
  }
}

import { Injectable } from '@nestjs/common';
import type { ArchiveRecord, VisitResult } from '@archiver/database';
import { DURATION_BUCKETS_SECONDS, MetricsRegistry } from '@archiver/metrics';

/**
 * What this worker did, as counters and histograms (Prometheus sums them over workers): visits
 * by outcome and error code, the time each stage of a visit took, and clone and upload
 * throughput (rate of bytes over rate of seconds). Error codes are the fixed set of
 * ArchiveErrorCode, so the label stays bounded.
 */
@Injectable()
export class WorkerMetrics {
  private readonly visits;
  private readonly stages;
  private readonly cloneSeconds;
  private readonly clonedBytes;
  private readonly uploadedObjects;
  private readonly uploadedBytes;

  constructor(metrics: MetricsRegistry) {
    this.visits = metrics.counter({
      name: 'archiver_visits_total',
      help: 'Visits that ended, by outcome (changed, unchanged, failed) and error code (empty unless failed)',
      labelNames: ['outcome', 'code'],
    });
    this.stages = metrics.histogram({
      name: 'archiver_stage_duration_seconds',
      help: 'Time of each stage of a visit: wait (created to injected), inject (injected to started), run (started to finished)',
      labelNames: ['stage'],
      buckets: DURATION_BUCKETS_SECONDS,
    });
    this.cloneSeconds = metrics.histogram({
      name: 'archiver_clone_duration_seconds',
      help: 'Time to bring a mirror up to date: a full clone, or a fetch into the cached mirror',
      labelNames: ['via'],
      buckets: DURATION_BUCKETS_SECONDS,
    });
    this.clonedBytes = metrics.counter({
      name: 'archiver_cloned_bytes_total',
      help: 'Size of the mirrors cloned or fetched into',
      labelNames: ['via'],
    });
    this.uploadedObjects = metrics.counter({
      name: 'archiver_uploaded_objects_total',
      help: 'File objects uploaded to MinIO (not those stored already)',
    });
    this.uploadedBytes = metrics.counter({ name: 'archiver_uploaded_bytes_total', help: 'Bytes of the file objects uploaded to MinIO' });
  }

  visitEnded(archive: Pick<ArchiveRecord, 'createdAt' | 'injectedAt' | 'startedAt'>, result: VisitResult, finishedAt: Date): void {
    const outcome = result.kind === 'completed' ? result.outcome : 'failed';
    this.visits.inc({ outcome, code: result.kind === 'failed' ? result.code : '' });
    const { createdAt, injectedAt, startedAt } = archive;
    if (injectedAt) this.stages.observe({ stage: 'wait' }, seconds(createdAt, injectedAt));
    if (injectedAt && startedAt) this.stages.observe({ stage: 'inject' }, seconds(injectedAt, startedAt));
    if (startedAt) this.stages.observe({ stage: 'run' }, seconds(startedAt, finishedAt));
  }

  cloned(via: 'cloned' | 'fetched', durationSeconds: number, bytes: number): void {
    this.cloneSeconds.observe({ via }, durationSeconds);
    this.clonedBytes.inc({ via }, bytes);
  }

  uploaded(counts: { uploaded: number; uploadedBytes: number }): void {
    this.uploadedObjects.inc(counts.uploaded);
    this.uploadedBytes.inc(counts.uploadedBytes);
  }
}

function seconds(from: Date, to: Date): number {
  return Math.max(0, (to.getTime() - from.getTime()) / 1000);
}

import { Injectable } from '@nestjs/common';
import { MetricsRegistry } from '@archiver/metrics';

/**
 * Politeness per upstream host, as this worker saw it. No host label: hosts are chosen by users
 * and unbounded; which host is busy or backing off is in the logs.
 */
@Injectable()
export class PolitenessMetrics {
  private readonly waits;
  private readonly backoffs;
  private readonly held;
  private readonly lost;

  constructor(metrics: MetricsRegistry) {
    this.waits = metrics.counter({
      name: 'archiver_host_slot_waits_total',
      help: 'Visits given back to the queue (delayed, no attempt used) because their host had no free slot (busy) or was backing off (backoff)',
      labelNames: ['reason'],
    });
    this.backoffs = metrics.counter({
      name: 'archiver_host_backoffs_total',
      help: 'Answers of an upstream host asking to slow down (429, or 503 with Retry-After), by whether it said how long (retry_after) or not (default)',
      labelNames: ['source'],
    });
    this.held = metrics.gauge({ name: 'archiver_host_slots_held', help: 'Upstream host slots this worker holds now' });
    this.lost = metrics.counter({
      name: 'archiver_host_slot_leases_lost_total',
      help: 'Host slot leases that could not be renewed (Redis unreachable for a whole lease, and the host full meanwhile)',
    });
  }

  waited(reason: 'busy' | 'backoff'): void {
    this.waits.inc({ reason });
  }

  backedOff(source: 'retry_after' | 'default'): void {
    this.backoffs.inc({ source });
  }

  slotTaken(): void {
    this.held.inc();
  }

  slotGiven(): void {
    this.held.dec();
  }

  leaseLost(): void {
    this.lost.inc();
  }
}

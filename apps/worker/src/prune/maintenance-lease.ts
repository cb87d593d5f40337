import { Logger } from '@nestjs/common';
import { RetentionRepository } from '@archiver/database';

/** Reason a prune's signal is aborted with when its lease is gone. */
export const LEASE_LOST = 'the prune lost the repository’s maintenance lease (not renewable in time)';

/**
 * A prune's hold on its repository (RetentionRepository.takeLease), renewed every third of the
 * lease. Its signal aborts when the lease cannot be renewed before it expires: from then on a
 * visit may start and rely on what the prune would delete, so the prune must stop at once.
 */
export class MaintenanceLease {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private readonly intervalMs: number;
  private validUntil: number;
  private renewing = false;

  constructor(
    private readonly retention: RetentionRepository,
    readonly repositoryId: string,
    readonly runId: string,
    private readonly leaseMs: number,
  ) {
    this.validUntil = Date.now() + leaseMs;
    this.intervalMs = Math.max(200, Math.floor(leaseMs / 3));
    this.timer = setInterval(() => void this.renew(), this.intervalMs);
    this.timer.unref();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Renews now; throws when the lease is gone (before each step that deletes anything). */
  async confirm(): Promise<void> {
    await this.renew();
    this.signal.throwIfAborted();
  }

  /** Stops renewing; `release` gives the lease back so visits may start at once. */
  async end(options: { release: boolean }): Promise<void> {
    clearInterval(this.timer);
    if (options.release) await this.retention.releaseLease(this.repositoryId, this.runId).catch(() => undefined);
  }

  private async renew(): Promise<void> {
    if (this.renewing || this.signal.aborted) return;
    this.renewing = true;
    const startedAt = Date.now();
    try {
      if (await this.retention.renewLease(this.repositoryId, this.runId, this.leaseMs)) this.validUntil = startedAt + this.leaseMs;
      else this.lose('the lease is no longer held by this prune');
    } catch (error) {
      if (Date.now() + this.intervalMs >= this.validUntil) this.lose(`could not renew the lease: ${(error as Error).message}`);
    } finally {
      this.renewing = false;
    }
  }

  private lose(why: string): void {
    if (this.signal.aborted) return;
    new Logger(MaintenanceLease.name).warn({ msg: 'prune lost its lease; stopping', repositoryId: this.repositoryId, why });
    this.controller.abort(LEASE_LOST);
    clearInterval(this.timer);
  }
}

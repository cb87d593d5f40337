import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { RetentionRepository } from '@archiver/database';
import { RetryLaterError } from '@archiver/queue';

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

/** How soon maintenance that found its repository busy (a visit running, other maintenance) tries again. */
export const BUSY_RETRY_MS = 2_000;

/**
 * Runs `work` holding the repository's maintenance lease, once no visit of it runs: the lease
 * first (no visit can be claimed after it), then the count of live visits (a claim made before
 * it is visible now). Busy → RetryLaterError. A stop (shutdown, lost job lock, lost lease) is
 * postponed, not failed: the work runs again from the start. `work` returns whether the lease
 * is still to be released (false when it went with the repository, or was released with the result).
 */
export async function withMaintenanceLease(
  retention: RetentionRepository,
  repositoryId: string,
  leaseMs: number,
  jobSignal: AbortSignal,
  work: (lease: MaintenanceLease, signal: AbortSignal) => Promise<{ release: boolean }>,
): Promise<void> {
  const runId = randomUUID();
  if (!(await retention.takeLease(repositoryId, runId, leaseMs))) {
    throw new RetryLaterError('other maintenance of the repository holds its lease', BUSY_RETRY_MS);
  }
  const lease = new MaintenanceLease(retention, repositoryId, runId, leaseMs);
  let release = true;
  try {
    const running = await retention.countLiveVisits(repositoryId);
    if (running > 0) throw new RetryLaterError(`${running} visit(s) of the repository are running; waiting for them`, BUSY_RETRY_MS);
    ({ release } = await work(lease, AbortSignal.any([jobSignal, lease.signal])));
  } catch (error) {
    const stopped = jobSignal.aborted ? jobSignal : lease.signal.aborted ? lease.signal : null;
    if (stopped && !(error instanceof RetryLaterError)) {
      throw new RetryLaterError(`interrupted: ${String(stopped.reason)}`, BUSY_RETRY_MS, { cause: error });
    }
    throw error;
  } finally {
    await lease.end({ release });
  }
}

import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { RetentionRepository } from '@archiver/database';
import { RetryLaterError } from '@archiver/queue';
import { RenewedLease } from '../run/renewed-lease';

/** Reason a prune's signal is aborted with when its lease is gone. */
export const LEASE_LOST = 'the prune lost the repository’s maintenance lease (not renewable in time)';

/**
 * Maintenance's hold on its repository (RetentionRepository.takeLease), renewed while the work
 * lives (RenewedLease). Once it is lost a visit may start and rely on what a prune or purge
 * would delete, so the work must stop at once.
 */
export class MaintenanceLease extends RenewedLease {
  constructor(
    private readonly retention: RetentionRepository,
    readonly repositoryId: string,
    readonly runId: string,
    leaseMs: number,
  ) {
    super(leaseMs, LEASE_LOST);
  }

  /** Renews now; throws when the lease is gone (before each step that deletes anything). */
  async confirm(): Promise<void> {
    await this.renew();
    this.signal.throwIfAborted();
  }

  /** Stops renewing; `release` gives the lease back so visits may start at once. */
  async end(options: { release: boolean }): Promise<void> {
    this.stopRenewing();
    if (options.release) await this.retention.releaseLease(this.repositoryId, this.runId).catch(() => undefined);
  }

  protected extend(): Promise<boolean> {
    return this.retention.renewLease(this.repositoryId, this.runId, this.leaseMs);
  }

  protected logLoss(logger: Logger, why: string): void {
    logger.warn({ msg: 'prune lost its lease; stopping', repositoryId: this.repositoryId, why });
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

import { Logger } from '@nestjs/common';
import { ArchiveRecord, ArchiveRepository } from '@archiver/database';
import { RenewedLease } from './renewed-lease';

/** Reason a run's signal is aborted with when its lease is gone. */
export const CLAIM_LOST = 'another run took the archive over, or this run could not renew its claim in time';

/**
 * One run's hold on its archive (ArchiveRepository.claimRun), renewed while the run lives
 * (RenewedLease). Once it is lost another run may hold the archive: this one must stop and
 * write nothing.
 */
export class RunClaim extends RenewedLease {
  constructor(
    private readonly archives: ArchiveRepository,
    readonly archive: ArchiveRecord,
    readonly runId: string,
    leaseMs: number,
  ) {
    super(leaseMs, CLAIM_LOST);
  }

  /** Renews now and throws when the archive is no longer this run's (before writing what marks it complete). */
  async confirm(): Promise<void> {
    await this.renew();
    if (this.signal.aborted) throw new ClaimLostError();
  }

  /** Stops renewing. `release`: let another run claim the archive at once (this run stopped cleanly). */
  async end(options: { release: boolean }): Promise<void> {
    this.stopRenewing();
    if (options.release && !this.signal.aborted) await this.archives.releaseRun(this.archive.id, this.runId).catch(() => undefined);
  }

  protected extend(): Promise<boolean> {
    return this.archives.renewRun(this.archive.id, this.runId, this.leaseMs);
  }

  protected logLoss(logger: Logger, why: string): void {
    logger.warn({ msg: 'run lost its claim; stopping', archiveId: this.archive.id, runId: this.runId, why });
  }
}

export class ClaimLostError extends Error {
  constructor() {
    super(`This run no longer holds the archive (${CLAIM_LOST})`);
    this.name = 'ClaimLostError';
  }
}

import { Logger } from '@nestjs/common';
import { ArchiveRecord, ArchiveRepository } from '@archiver/database';

/** Reason a run's signal is aborted with when its lease is gone. */
export const CLAIM_LOST = 'another run took the archive over, or this run could not renew its claim in time';

/**
 * One run's hold on its archive (ArchiveRepository.claimRun): renewed every third of the
 * lease while the run lives. Its signal aborts when the claim is lost — taken over, or not
 * renewable before it expires (the database unreachable for that long) — because from then
 * on another run may hold the archive and this one must stop and write nothing.
 */
export class RunClaim {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private readonly intervalMs: number;
  private validUntil: number;
  private renewing = false;

  constructor(
    private readonly archives: ArchiveRepository,
    readonly archive: ArchiveRecord,
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

  /** Renews now and throws when the archive is no longer this run's (before writing what marks it complete). */
  async confirm(): Promise<void> {
    await this.renew();
    if (this.signal.aborted) throw new ClaimLostError();
  }

  /** Stops renewing. `release`: let another run claim the archive at once (this run stopped cleanly). */
  async end(options: { release: boolean }): Promise<void> {
    clearInterval(this.timer);
    if (options.release && !this.signal.aborted) await this.archives.releaseRun(this.archive.id, this.runId).catch(() => undefined);
  }

  private async renew(): Promise<void> {
    if (this.renewing || this.signal.aborted) return;
    this.renewing = true;
    const startedAt = Date.now();
    try {
      if (await this.archives.renewRun(this.archive.id, this.runId, this.leaseMs)) this.validUntil = startedAt + this.leaseMs;
      else this.lose('the archive is no longer held by this run');
    } catch (error) {
      // The database is unreachable: keep going while the lease surely holds; stop before the
      // next renewal could come too late (another run may claim the archive once it expires).
      if (Date.now() + this.intervalMs >= this.validUntil) this.lose(`could not renew the claim: ${(error as Error).message}`);
    } finally {
      this.renewing = false;
    }
  }

  private lose(why: string): void {
    if (this.signal.aborted) return;
    new Logger(RunClaim.name).warn({ msg: 'run lost its claim; stopping', archiveId: this.archive.id, runId: this.runId, why });
    this.controller.abort(CLAIM_LOST);
    clearInterval(this.timer);
  }
}

export class ClaimLostError extends Error {
  constructor() {
    super(`This run no longer holds the archive (${CLAIM_LOST})`);
    this.name = 'ClaimLostError';
  }
}

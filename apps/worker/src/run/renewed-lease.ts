import { Logger } from '@nestjs/common';

/**
 * A lease held in the database and renewed every third of its length while the work lives. Its
 * signal aborts when the lease is lost: taken over, or not renewable before it expires (the
 * database unreachable for that long) — from then on someone else may act on what the lease
 * guarded, so the holder must stop. Subclasses say how to renew and what losing means.
 */
export abstract class RenewedLease {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private readonly intervalMs: number;
  private validUntil: number;
  private renewing = false;

  protected constructor(
    protected readonly leaseMs: number,
    private readonly lostReason: string,
  ) {
    this.validUntil = Date.now() + leaseMs;
    this.intervalMs = Math.max(200, Math.floor(leaseMs / 3));
    this.timer = setInterval(() => void this.renew(), this.intervalMs);
    this.timer.unref();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Extends the lease in the database; false when it is no longer this holder's. */
  protected abstract extend(): Promise<boolean>;

  /** Logs why the lease was lost (the signal is aborted right after). */
  protected abstract logLoss(logger: Logger, why: string): void;

  /** Stops renewing (subclasses give the lease back when asked to). */
  protected stopRenewing(): void {
    clearInterval(this.timer);
  }

  protected async renew(): Promise<void> {
    if (this.renewing || this.signal.aborted) return;
    this.renewing = true;
    const startedAt = Date.now();
    try {
      if (await this.extend()) this.validUntil = startedAt + this.leaseMs;
      else this.lose('the lease is no longer held by this holder');
    } catch (error) {
      // The database is unreachable: keep going while the lease surely holds; stop before the
      // next renewal could come too late (someone else may take it once it expires).
      if (Date.now() + this.intervalMs >= this.validUntil) this.lose(`could not renew the lease: ${(error as Error).message}`);
    } finally {
      this.renewing = false;
    }
  }

  private lose(why: string): void {
    if (this.signal.aborted) return;
    this.logLoss(new Logger(this.constructor.name), why);
    this.controller.abort(this.lostReason);
    clearInterval(this.timer);
  }
}

import { Logger } from '@nestjs/common';
import type { HostSlotsRepository } from './host-slots.repository';
import type { PolitenessMetrics } from './politeness-metrics';

/**
 * One upstream operation's slot on its host, renewed every third of its lease while held, so a
 * long clone keeps it and a killed worker's slot frees one lease after its last renewal. Renewal
 * failures are logged, not thrown: the work goes on (the limit may be exceeded for a moment, the
 * work is not lost), and `release` is safe to call more than once.
 */
export class HostSlot {
  private readonly logger = new Logger(HostSlot.name);
  private readonly timer: NodeJS.Timeout;
  private released = false;

  constructor(
    private readonly slots: HostSlotsRepository,
    private readonly metrics: PolitenessMetrics,
    readonly host: string,
    readonly token: string,
    private readonly limit: { max: number; leaseMs: number },
  ) {
    metrics.slotTaken();
    this.timer = setInterval(() => void this.renew(), Math.max(200, Math.floor(limit.leaseMs / 3)));
    this.timer.unref();
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    clearInterval(this.timer);
    this.metrics.slotGiven();
    // Not given back (Redis unreachable): the lease frees it once it runs out.
    await this.slots.release(this.host, this.token).catch((error: Error) => {
      this.logger.warn({ msg: 'could not give a host slot back; it frees when its lease runs out', host: this.host, error: error.message });
    });
  }

  private async renew(): Promise<void> {
    try {
      if (this.released || (await this.slots.renew(this.host, this.token, this.limit.max, this.limit.leaseMs))) return;
      this.metrics.leaseLost();
      this.logger.warn({ msg: 'host slot lease lapsed and the host is full; going on without a slot', host: this.host });
    } catch (error) {
      this.logger.warn({ msg: 'could not renew a host slot lease', host: this.host, error: (error as Error).message });
    }
  }
}

import { Logger } from '@nestjs/common';

/**
 * Runs `pass` every `intervalMs`, never two passes at once (a slow pass makes the next tick
 * a no-op), and never lets a failed pass stop the next: the injector's reconciler and
 * scheduler both live on this. The timer does not keep the process alive.
 */
export class PeriodicTask {
  private timer?: NodeJS.Timeout;
  private running = false;

  constructor(
    private readonly logger: Logger,
    private readonly what: string,
    private readonly intervalMs: number,
    private readonly pass: () => Promise<Record<string, number> | void>,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async tick(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const report = await this.pass();
      if (report && Object.values(report).some((n) => n > 0)) this.logger.log({ msg: this.what, ...report });
    } catch (error) {
      this.logger.warn({ msg: `${this.what}: pass failed; will retry`, error: (error as Error).message });
    } finally {
      this.running = false;
    }
  }
}

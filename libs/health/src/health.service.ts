import { Inject, Injectable } from '@nestjs/common';
import { HEALTH_APP_NAME, HEALTH_INDICATORS, HealthIndicator, HealthReport, NamedIndicator } from './health.types';

const CHECK_TIMEOUT_MS = 3000;

@Injectable()
export class HealthService {
  constructor(
    @Inject(HEALTH_APP_NAME) private readonly app: string,
    @Inject(HEALTH_INDICATORS) private readonly indicators: NamedIndicator[],
  ) {}

  get appName(): string {
    return this.app;
  }

  async report(): Promise<HealthReport> {
    const results = await Promise.all(this.indicators.map(async ([name, indicator]) => [name, await this.probe(indicator)] as const));
    const dependencies = Object.fromEntries(results.map(([name, up]) => [name, up ? 'up' : 'down'] as const));
    return { status: results.every(([, up]) => up) ? 'ok' : 'error', app: this.app, dependencies };
  }

  // A hung dependency must read as down, not hang the health endpoint.
  private async probe(indicator: HealthIndicator): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), CHECK_TIMEOUT_MS)));
    try {
      return await Promise.race([indicator.check().catch(() => false), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

import { DynamicModule, Module } from '@nestjs/common';
import { MetricsRegistry } from './metrics.registry';
import { METRICS_APP_NAME, MetricsServer } from './metrics.server';

export type MetricsAppName = 'frontend' | 'injector' | 'worker';

/** The app's metrics registry (global: any provider may add its series) and its /metrics listener. */
@Module({})
export class MetricsModule {
  static forApp(app: MetricsAppName): DynamicModule {
    return {
      module: MetricsModule,
      global: true,
      providers: [
        { provide: METRICS_APP_NAME, useValue: app },
        { provide: MetricsRegistry, useFactory: () => new MetricsRegistry(app) },
        MetricsServer,
      ],
      exports: [MetricsRegistry],
    };
  }
}

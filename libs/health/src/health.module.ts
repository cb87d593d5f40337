import { DynamicModule, Module, Provider, Type } from '@nestjs/common';
import { HealthController } from './health.controller';
import { HealthService } from './health.service';
import { DependencyName, HEALTH_APP_NAME, HEALTH_INDICATORS, HealthIndicator, NamedIndicator } from './health.types';

@Module({})
export class HealthModule {
  /** `indicators` name the providers (exported by modules the app imports) whose checks make up /health. */
  static forApp(app: string, indicators: Partial<Record<DependencyName, Type<HealthIndicator>>>): DynamicModule {
    const entries = Object.entries(indicators) as [DependencyName, Type<HealthIndicator>][];
    const list: Provider = {
      provide: HEALTH_INDICATORS,
      useFactory: (...instances: HealthIndicator[]): NamedIndicator[] => entries.map(([name], i) => [name, instances[i]] as const),
      inject: entries.map(([, type]) => type),
    };
    return {
      module: HealthModule,
      controllers: [HealthController],
      providers: [{ provide: HEALTH_APP_NAME, useValue: app }, list, HealthService],
    };
  }
}

import { DynamicModule, Module, ModuleMetadata, Provider, Type } from '@nestjs/common';
import { HealthController } from './health.controller';
import { HealthService } from './health.service';
import { DependencyName, HEALTH_APP_NAME, HEALTH_INDICATORS, HealthIndicator, NamedIndicator } from './health.types';

@Module({})
export class HealthModule {
  /**
   * `indicators` name the providers whose checks make up /health; they come from global
   * modules or from the non-global modules listed in `imports`.
   */
  static forApp(
    app: string,
    indicators: Partial<Record<DependencyName, Type<HealthIndicator>>>,
    imports: ModuleMetadata['imports'] = [],
  ): DynamicModule {
    const entries = Object.entries(indicators) as [DependencyName, Type<HealthIndicator>][];
    const list: Provider = {
      provide: HEALTH_INDICATORS,
      useFactory: (...instances: HealthIndicator[]): NamedIndicator[] => entries.map(([name], i) => [name, instances[i]] as const),
      inject: entries.map(([, type]) => type),
    };
    return {
      module: HealthModule,
      imports,
      controllers: [HealthController],
      providers: [{ provide: HEALTH_APP_NAME, useValue: app }, list, HealthService],
    };
  }
}

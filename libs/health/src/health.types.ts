/** Something a process depends on; `check` should resolve (not reject) within a few seconds. */
export interface HealthIndicator {
  check(): Promise<boolean>;
}

export type DependencyName = 'postgres' | 'redis' | 'minio' | 'keycloak';

export interface HealthReport {
  status: 'ok' | 'error';
  app: string;
  dependencies: Partial<Record<DependencyName, 'up' | 'down'>>;
}

/** Injection tokens: the named indicators an app registers for its /health endpoint. */
export const HEALTH_INDICATORS = Symbol('HEALTH_INDICATORS');
export const HEALTH_APP_NAME = Symbol('HEALTH_APP_NAME');

export type NamedIndicator = readonly [DependencyName, HealthIndicator];

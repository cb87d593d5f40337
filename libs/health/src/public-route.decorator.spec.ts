import { Reflector } from '@nestjs/core';
import { HealthController } from './health.controller';
import { IS_PUBLIC_KEY, Public } from './public-route.decorator';

// Loading keycloak-connect anywhere in these module graphs fails the test.
jest.mock('keycloak-connect', () => {
  throw new Error('keycloak-connect was loaded');
});

describe(Public.name, () => {
  it('marks /health public with the key the auth guard reads', () => {
    const sut = new Reflector().get<boolean>(IS_PUBLIC_KEY, HealthController.prototype.check);
    expect(sut).toBe(true);
  });

  it.each(['../../../apps/injector/src/injector.module', '../../../apps/worker/src/worker.module'])(
    'lets %s serve /health without loading libs/auth or keycloak-connect',
    async (path) => {
      await expect(import(path)).resolves.toBeDefined();
    },
  );

  it('would notice keycloak-connect being loaded', async () => {
    const auth = '@archiver/auth';
    await expect(import(auth)).rejects.toThrow('keycloak-connect was loaded');
  });
});

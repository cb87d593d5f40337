import { SetMetadata } from '@nestjs/common';

/**
 * Marks a route that needs no sign-in (health, the web UI's shell, the API docs). It lives in
 * this low lib rather than in libs/auth so that the injector and the worker can expose
 * /health without loading libs/auth and keycloak-connect; libs/auth's guard reads the same key.
 */
export const IS_PUBLIC_KEY = 'archiver:auth:public';

export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC_KEY, true);

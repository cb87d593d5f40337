import { createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import { AuthError } from './auth.error';
import type { AuthenticatedRequest, AuthUser } from './auth.types';

export const REQUIRED_ROLES_KEY = 'archiver:auth:roles';

/**
 * Realm roles needed on top of `archiver-user` (which every non-public route requires).
 * On a controller and a handler, the roles add up.
 */
export const Roles = (...roles: string[]): MethodDecorator & ClassDecorator => SetMetadata(REQUIRED_ROLES_KEY, roles);

/**
 * The signed-in user the guard put on the request. Using it on a `@Public()` route is a
 * wiring mistake, reported as 401 rather than handing the controller `undefined`.
 */
export const CurrentUser = createParamDecorator((_data: unknown, context: ExecutionContext): AuthUser => {
  const user = context.switchToHttp().getRequest<AuthenticatedRequest>().user;
  if (!user) throw AuthError.unauthenticated('This route needs a signed-in user. Send `Authorization: Bearer <access token>`.');
  return user;
});

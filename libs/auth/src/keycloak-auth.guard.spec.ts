import { Controller, type ExecutionContext, Get, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Public } from '@archiver/health';
import { Roles } from './auth.decorators';
import { rejectionOf } from '@archiver/testing';
import { AuthError, AuthErrorCode } from './auth.error';
import type { AuthenticatedRequest, AuthUser, VerifiedToken } from './auth.types';
import { KeycloakAuthGuard } from './keycloak-auth.guard';
import type { TokenVerifier } from './token-verifier';

@Controller()
class SampleController {
  @Get() open() {}
  @Public() @Get() health() {}
  @Roles('archiver-admin') @Get() adminOnly() {}
}

@Public()
@Controller()
class PublicController {
  @Get() page() {}
}

interface Call {
  request: AuthenticatedRequest;
  headers: Record<string, string>;
}

function httpContext(handler: keyof SampleController | 'page', authorization?: string): { context: ExecutionContext; call: Call } {
  const cls = handler === 'page' ? PublicController : SampleController;
  const call: Call = {
    request: { headers: authorization === undefined ? {} : { authorization } } as AuthenticatedRequest,
    headers: {},
  };
  const response = { setHeader: (name: string, value: string) => (call.headers[name.toLowerCase()] = value) };
  const context = {
    getType: () => 'http',
    getClass: () => cls,
    getHandler: () => (cls.prototype as unknown as Record<string, () => void>)[handler],
    switchToHttp: () => ({ getRequest: () => call.request, getResponse: () => response }),
  } as unknown as ExecutionContext;
  return { context, call };
}

const demo: VerifiedToken = { subject: 'sub-demo', username: 'demo', roles: ['archiver-user'], token: 'demo-token' };
const admin: VerifiedToken = { subject: 'sub-admin', username: 'admin', roles: ['archiver-user', 'archiver-admin'], token: 'admin-token' };
const nobody: VerifiedToken = { subject: 'sub-nobody', username: 'nobody', roles: ['offline_access'], token: 'nobody-token' };

describe(KeycloakAuthGuard.name, () => {
  const tokens: Record<string, VerifiedToken> = { 'demo-token': demo, 'admin-token': admin, 'nobody-token': nobody };
  let verify: jest.Mock<Promise<VerifiedToken>, [string]>;
  let sut: KeycloakAuthGuard;

  beforeEach(() => {
    verify = jest.fn(async (token: string) => {
      const found = tokens[token];
      if (!found) throw AuthError.unauthenticated('The access token has expired. Get a new one from Keycloak and retry.');
      return found;
    });
    sut = new KeycloakAuthGuard(new Reflector(), { realm: 'archiver', verify } as unknown as TokenVerifier);
  });

  it('lets @Public() routes through without credentials or a verifier call', async () => {
    for (const handler of ['health', 'page'] as const) {
      const { context, call } = httpContext(handler);
      await expect(sut.canActivate(context)).resolves.toBe(true);
      expect(call.request.user).toBeUndefined();
    }
    expect(verify).not.toHaveBeenCalled();
  });

  it('answers 401 with a JSON body and a WWW-Authenticate challenge when no Authorization header is sent', async () => {
    const { context, call } = httpContext('open');
    const error = await rejectionOf(sut.canActivate(context), AuthError);
    expect(error.getStatus()).toBe(401);
    expect(error.getResponse()).toEqual({ error: { code: 'UNAUTHENTICATED', message: expect.stringContaining('Authorization: Bearer') } });
    expect(call.headers['www-authenticate']).toBe('Bearer realm="archiver"');
    expect(verify).not.toHaveBeenCalled();
  });

  it.each(['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer ', 'bearer a b', 'Token abc'])(
    'answers 401 for the malformed header %j',
    async (header) => {
      const { context, call } = httpContext('open', header);
      const error = await rejectionOf(sut.canActivate(context), AuthError);
      expect(error.code).toBe(AuthErrorCode.UNAUTHENTICATED);
      expect(error.getStatus()).toBe(401);
      expect(call.headers['www-authenticate']).toBe('Bearer realm="archiver", error="invalid_token"');
      expect(verify).not.toHaveBeenCalled();
    },
  );

  it("answers 401 with the verifier's reason when it rejects the token", async () => {
    const { context, call } = httpContext('open', 'Bearer expired-token');
    const error = await rejectionOf(sut.canActivate(context), AuthError);
    expect(error.getStatus()).toBe(401);
    expect(error.getResponse()).toEqual({ error: { code: 'UNAUTHENTICATED', message: expect.stringContaining('expired') } });
    expect(call.headers['www-authenticate']).toBe('Bearer realm="archiver", error="invalid_token"');
    expect(verify).toHaveBeenCalledWith('expired-token');
  });

  it('answers 503 without a challenge when the verifier cannot reach Keycloak', async () => {
    const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    verify.mockRejectedValueOnce(
      AuthError.unavailable('Access tokens cannot be checked right now.', new Error('GET http://kc/certs timed out')),
    );
    const { context, call } = httpContext('open', 'Bearer demo-token');
    const error = await rejectionOf(sut.canActivate(context), AuthError);
    expect(error.getStatus()).toBe(503);
    expect(error.code).toBe(AuthErrorCode.UNAVAILABLE);
    expect(call.headers['www-authenticate']).toBeUndefined();
    // The operator needs the internal cause; the client only gets the message.
    expect(logged).toHaveBeenCalledWith(expect.stringContaining('GET http://kc/certs timed out'));
    logged.mockRestore();
  });

  it('accepts a user with archiver-user and puts them on the request', async () => {
    const { context, call } = httpContext('open', 'Bearer demo-token');
    await expect(sut.canActivate(context)).resolves.toBe(true);
    expect(call.request.user).toEqual<AuthUser>({ subject: 'sub-demo', username: 'demo', roles: ['archiver-user'], isAdmin: false });
  });

  it('answers 403 FORBIDDEN when the user lacks archiver-user', async () => {
    const { context, call } = httpContext('open', 'Bearer nobody-token');
    const error = await rejectionOf(sut.canActivate(context), AuthError);
    expect(error.getStatus()).toBe(403);
    expect(error.getResponse()).toEqual({ error: { code: 'FORBIDDEN', message: expect.stringContaining('archiver-user') } });
    expect(call.headers['www-authenticate']).toBeUndefined();
    expect(call.request.user).toBeUndefined();
  });

  it('requires the extra role of @Roles(): 403 for a user, through for an admin', async () => {
    const asUser = httpContext('adminOnly', 'Bearer demo-token');
    const error = await rejectionOf(sut.canActivate(asUser.context), AuthError);
    expect(error.getStatus()).toBe(403);
    expect(error.message).toContain('archiver-admin');

    const asAdmin = httpContext('adminOnly', 'Bearer admin-token');
    await expect(sut.canActivate(asAdmin.context)).resolves.toBe(true);
    expect(asAdmin.call.request.user).toMatchObject({ username: 'admin', isAdmin: true });
  });
});

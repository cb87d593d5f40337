import type { CallHandler, ExecutionContext } from '@nestjs/common';
import express from 'express';
import { of } from 'rxjs';
import { ApiError } from './api.error';
import { JsonBodyInterceptor } from './json-body.interceptor';

/** A real Express request (its `is` reads the headers), as the interceptor meets it. */
function contextFor(method: string, headers: Record<string, string>): ExecutionContext {
  const req = Object.assign(Object.create(express.request) as express.Request, { method, headers });
  return { switchToHttp: () => ({ getRequest: () => req }) } as unknown as ExecutionContext;
}

const next: CallHandler = { handle: () => of('handled') };

describe(JsonBodyInterceptor.name, () => {
  const sut = new JsonBodyInterceptor();

  it.each(['application/json', 'application/json; charset=utf-8', 'Application/JSON'])('lets a %s body through', (type) => {
    expect(() => sut.intercept(contextFor('POST', { 'content-type': type, 'content-length': '2' }), next)).not.toThrow();
  });

  it.each(['application/merge-patch+json', 'application/vnd.api+json', 'text/plain', 'application/x-www-form-urlencoded', 'text/json'])(
    'answers a %s body with 415, since the parser reads only application/json',
    (type) => {
      for (const method of ['POST', 'PUT', 'PATCH']) {
        const call = () => sut.intercept(contextFor(method, { 'content-type': type, 'transfer-encoding': 'chunked' }), next);
        expect(call).toThrow(ApiError);
        expect(call).toThrow(/Content-Type: application\/json/);
      }
    },
  );

  it('answers a body with no content type with 415', () => {
    expect(() => sut.intercept(contextFor('POST', { 'content-length': '2' }), next)).toThrow(/got "none"/);
  });

  it.each([
    ['GET', { 'content-type': 'text/plain', 'content-length': '2' }],
    ['DELETE', { 'content-type': 'text/plain', 'content-length': '2' }],
    ['POST', { 'content-type': 'text/plain', 'content-length': '0' }],
    ['POST', {}],
  ])('leaves %s without a body to read alone (%j)', (method, headers) => {
    expect(() => sut.intercept(contextFor(method, headers), next)).not.toThrow();
  });
});

import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { acceptRequestId, assignRequestId, REQUEST_ID_HEADER } from './request-id';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe(acceptRequestId.name, () => {
  it.each([
    ['a UUID', '0b9b2c4e-8f0a-4c8e-9a51-2f3d7b7c1e22'],
    ['32 hex digits', '4bf92f3577b34da6a3ce929d0e0e4736'],
    ['dots, colons, dashes and underscores', 'lb-1.eu:req_42'],
    ['a single character', 'x'],
    ['128 characters', 'a'.repeat(128)],
  ])('accepts %s', (_case, id) => {
    expect(acceptRequestId(id)).toBe(id);
  });

  it.each([
    ['nothing', undefined],
    ['an empty value', ''],
    ['129 characters', 'a'.repeat(129)],
    ['a very long value', 'a'.repeat(100_000)],
    ['a space', 'a b'],
    ['a repeated header (joined by ", ")', 'one, two'],
    ['a header given twice (array)', ['one', 'two']],
    ['a newline (log injection)', 'abc\n{"level":"fatal"}'],
    ['a carriage return (header injection)', 'abc\r\nSet-Cookie: x=1'],
    ['quotes and braces', '"},"level":"x'],
    ['a slash', '../../etc'],
    ['non-ASCII letters', 'réq'],
    ['a NUL byte', 'a\u0000b'],
    ['a leading dash', '-abc'],
  ])('refuses %s', (_case, id) => {
    expect(acceptRequestId(id)).toBeUndefined();
  });
});

describe(assignRequestId.name, () => {
  const exchange = (headers: Record<string, string>) => {
    const req = new IncomingMessage(new Socket());
    req.headers = headers;
    return { req, res: new ServerResponse(req) };
  };

  it('keeps an acceptable incoming id and echoes it', () => {
    const { req, res } = exchange({ [REQUEST_ID_HEADER]: 'edge-42' });
    expect(assignRequestId(req, res)).toBe('edge-42');
    expect(res.getHeader(REQUEST_ID_HEADER)).toBe('edge-42');
  });

  it.each([[{}], [{ [REQUEST_ID_HEADER]: 'not acceptable' }]])('generates a UUID for %j and echoes it', (headers) => {
    const { req, res } = exchange(headers);
    const id = assignRequestId(req, res);
    expect(id).toMatch(UUID);
    expect(res.getHeader(REQUEST_ID_HEADER)).toBe(id);
    const next = exchange(headers);
    expect(assignRequestId(next.req, next.res)).not.toBe(id);
  });
});

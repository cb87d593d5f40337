import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pinoHttp } from 'pino-http';
import { httpLoggerOptions } from './logger-options';
import { REQUEST_ID_HEADER } from './request-id';
import { LogCapture, LogLine } from './testing/log-capture';

type Handler = (req: IncomingMessage & { log: { info: (o: object) => void }; route?: { path: string } }, res: ServerResponse) => void;

// A real HTTP server on loopback with the middleware nestjs-pino mounts, built from our options.
describe(httpLoggerOptions.name, () => {
  const out = new LogCapture();
  let handler: Handler = (_req, res) => res.end('ok');
  let server: Server;
  let base: string;

  beforeAll(async () => {
    const middleware = pinoHttp(httpLoggerOptions('frontend', 'debug', out));
    server = createServer((req, res) => middleware(req, res, () => handler(req as Parameters<Handler>[0], res)));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));
  beforeEach(() => {
    out.clear();
    handler = (_req, res) => res.end('ok');
  });

  /** The response, and the lines logged for it: the access line comes when the response is finished. */
  const request = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`${base}${path}`, init);
    await res.text();
    const deadline = Date.now() + 5_000;
    while (!out.lines().some((line) => line.msg === 'request completed' || line.msg === 'request errored')) {
      if (Date.now() > deadline) throw new Error(`no access line for ${path}: ${out.raw.join('')}`);
      await new Promise((resolve) => setImmediate(resolve));
    }
    return { res, lines: out.lines() };
  };
  const accessLine = (lines: LogLine[]) => lines.find((line) => line.msg === 'request completed' || line.msg === 'request errored')!;

  it('writes one access line with method, path, route, status and duration', async () => {
    handler = (req, res) => {
      req.route = { path: '/api/archives/:id' };
      res.statusCode = 404;
      res.end();
    };
    const { lines } = await request('/api/archives/0b9b2c4e', { method: 'DELETE' });
    expect(lines).toHaveLength(1);
    expect(accessLine(lines)).toMatchObject({
      level: 'info',
      app: 'frontend',
      method: 'DELETE',
      path: '/api/archives/0b9b2c4e',
      route: '/api/archives/:id',
      status: 404,
      durationMs: expect.any(Number),
    });
  });

  it('binds one request id to every line of the request and answers it in x-request-id', async () => {
    handler = (req, res) => {
      req.log.info({ msg: 'first' });
      setTimeout(() => {
        req.log.info({ msg: 'second', level: 'fatal', time: 0, reqId: 'forged' });
        res.end();
      }, 5);
    };
    for (const sent of [undefined, 'edge-7', 'bad id\n']) {
      out.clear();
      const { res, lines } = await request('/x', { headers: sent ? { [REQUEST_ID_HEADER]: sent } : {} });
      const id = res.headers.get(REQUEST_ID_HEADER);
      if (sent === 'edge-7') expect(id).toBe('edge-7');
      else expect(id).toMatch(/^[0-9a-f-]{36}$/);
      expect(lines.map((line) => line.msg)).toEqual(['first', 'second', 'request completed']);
      // Fields a handler logs (say, from the request body) cannot forge the id, the level or the time.
      expect(lines.map((line) => line.reqId)).toEqual([id, id, id]);
      expect(lines[1].callerFields).toEqual({ level: 'fatal', time: 0, reqId: 'forged' });
      expect(lines.map((line) => [line.level, typeof line.time])).toEqual([
        ['info', 'string'],
        ['info', 'string'],
        ['info', 'string'],
      ]);
    }
  });

  it('never logs credentials: no headers, no query string', async () => {
    const secret = 'eyJhbGciOiJSUzI1NiJ9.c2VjcmV0.c2ln';
    handler = (req, res) => {
      req.log.info({ msg: 'handling', headers: req.headers });
      res.setHeader('set-cookie', `session=${secret}`);
      res.end();
    };
    const { lines } = await request(`/api/archives?access_token=${secret}&page=2`, {
      headers: { authorization: `Bearer ${secret}`, cookie: `KEYCLOAK_IDENTITY=${secret}` },
    });
    expect(lines).toHaveLength(2);
    expect(out.raw.join('')).not.toContain(secret);
    expect(accessLine(lines).path).toBe('/api/archives');
  });

  it.each([
    ['/health', 200, 'debug'],
    ['/health?probe=1', 503, 'debug'],
    ['/api/archives', 200, 'info'],
    ['/api/archives', 401, 'info'],
    ['/api/archives', 500, 'error'],
    ['/api/archives', 503, 'error'],
  ])('logs %s answering %d at %s', async (path, status, level) => {
    handler = (_req, res) => {
      res.statusCode = status;
      res.end();
    };
    const { lines } = await request(path);
    expect(accessLine(lines)).toMatchObject({ level, status });
  });
});

import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describeForgedFailure, type ForgedExchange, forgedAnswerProblems, sendForged } from './forged-request-runner';
import type { ForgedRequest } from './forged-requests';

const request: ForgedRequest = { operation: 'GET /api/x', method: 'GET', target: '/api/x', input: 'a forged input' };
const exchange = (status: number, text: string, elapsedMs = 5): ForgedExchange => ({ request, as: 'demo', status, text, elapsedMs });
const error = JSON.stringify({ error: { code: 'INVALID_REQUEST', message: 'page: must be a number' } });

describe(forgedAnswerProblems.name, () => {
  it.each([
    ['a 400 with a JSON error', exchange(400, error)],
    ['a 404 with a JSON error', exchange(404, JSON.stringify({ error: { code: 'NOT_FOUND', message: 'No archive "x"' } }))],
    ['a 200', exchange(200, '{"items":[]}')],
    ['a 204', exchange(204, '')],
  ])('accepts %s', (_name, sut) => {
    expect(forgedAnswerProblems(sut, 1000)).toEqual([]);
  });

  it.each([
    ['a 500', exchange(500, JSON.stringify({ error: { code: 'INTERNAL', message: 'Something went wrong' } })), 'status 500'],
    ['a 503', exchange(503, JSON.stringify({ error: { code: 'X', message: 'y' } })), 'status 503'],
    ['an HTML 400', exchange(400, '<html><body>Bad Request</body></html>'), 'no JSON error.code'],
    ['a 400 without a message', exchange(400, JSON.stringify({ error: { code: 'X', message: ' ' } })), 'no JSON error.message'],
    ['a 404 with a bare string', exchange(404, '"Not Found"'), 'no JSON error.code'],
    ['a stack trace', exchange(400, `${error}\nError: x\n    at Foo (/app/x.js:1:1)`), 'a stack trace in the body'],
    [
      'Prisma text',
      exchange(400, JSON.stringify({ error: { code: 'X', message: 'Invalid `prisma.archive.findUnique()`' } })),
      'database internals in the body',
    ],
    [
      "zod's default message",
      exchange(400, JSON.stringify({ error: { code: 'INVALID_REQUEST', message: 'Invalid input: expected object, received undefined' } })),
      "a library's default message",
    ],
    [
      "zlib's message",
      exchange(400, JSON.stringify({ error: { code: 'BAD_REQUEST', message: 'incorrect header check' } })),
      "a library's default message",
    ],
    ['a slow answer', exchange(400, error, 1500), 'took 1500 ms'],
    ['no answer', { ...exchange(0, ''), status: undefined, failure: 'TimeoutError: aborted' }, 'no answer (TimeoutError: aborted)'],
  ])('reports %s', (_name, sut, problem) => {
    expect(forgedAnswerProblems(sut, 1000)).toContain(problem);
  });

  it('names who sent what, where, and what came back', () => {
    const sut = exchange(500, 'boom');
    expect(describeForgedFailure(sut, ['status 500'])).toBe('demo GET /api/x [a forged input] → 500 (status 500): boom');
  });
});

describe(sendForged.name, () => {
  let server: Server;
  let baseUrl: string;
  let inFlight = 0;
  let mostInFlight = 0;
  const seen: Array<{ url?: string; contentType?: string; authorization?: string; body: string }> = [];

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res) => {
      inFlight += 1;
      mostInFlight = Math.max(mostInFlight, inFlight);
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        seen.push({
          url: req.url,
          contentType: req.headers['content-type'],
          authorization: req.headers.authorization,
          body: Buffer.concat(chunks).toString(),
        });
        // A peer that never answers one path, so the bound is what ends it.
        if (req.url === '/never') return;
        setTimeout(() => {
          inFlight -= 1;
          res.writeHead(400, { 'content-type': 'application/json' }).end(error);
        }, 20);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('sends every request with at most `concurrency` in flight, bodies as given, and never throws', async () => {
    const requests: ForgedRequest[] = Array.from({ length: 12 }, (_, i) => ({
      ...request,
      target: `/r${i}`,
      method: 'POST',
      body: `{"i":${i}}`,
    }));
    requests.push({ ...request, target: '/never' });

    const sut = await sendForged(baseUrl, requests, { token: 't', as: 'demo', concurrency: 3, timeoutMs: 500 });

    expect(sut).toHaveLength(13);
    expect(mostInFlight).toBeLessThanOrEqual(3);
    expect(sut.find((result) => result.request.target === '/never')?.failure).toMatch(/Timeout|abort/i);
    expect(sut.filter((result) => result.status === 400)).toHaveLength(12);
    const r5 = seen.find((entry) => entry.url === '/r5');
    expect(r5).toEqual({ url: '/r5', contentType: undefined, authorization: 'Bearer t', body: '{"i":5}' });
  });
});

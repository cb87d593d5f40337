import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { postOnce } from './webhook-sender';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => void;

describe(postOnce.name, () => {
  let server: http.Server;
  let port: number;
  let handler: Handler;
  const seen: { host?: string; body: Buffer; headers: http.IncomingHttpHeaders }[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        seen.push({ host: req.headers.host, body, headers: req.headers });
        handler(req, res, body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    seen.length = 0;
  });

  // A name that resolves nowhere: reaching the server proves the vetted address was used, not DNS.
  const target = (path = '/hook?token=abc') => ({
    url: new URL(`http://hooks.example.invalid:${port}${path}`),
    addresses: [{ address: '127.0.0.1', family: 4 as const }],
  });
  const body = Buffer.from('{"event":"ping"}');

  it('connects to the vetted address, keeps the URL’s Host, path and query, and sends the exact bytes and headers', async () => {
    handler = (_req, res) => res.writeHead(204).end();
    const outcome = await postOnce(target(), body, { 'X-Archiver-Event': 'ping' }, 5_000);
    expect(outcome).toEqual({ ok: true, statusCode: 204 });
    expect(seen[0]).toMatchObject({ host: `hooks.example.invalid:${port}`, body });
    expect(seen[0]!.headers).toMatchObject({
      'x-archiver-event': 'ping',
      'content-type': 'application/json',
      'content-length': String(body.length),
    });
  });

  it.each([
    [500, /HTTP 500: broken/],
    [404, /HTTP 404/],
    [301, /HTTP 301: redirects are not followed \(to http:\/\/elsewhere\//],
  ])('a %i answer is a failure with the status and a reason', async (status, reason) => {
    handler = (_req, res) => {
      if (status === 199)
        res.writeHead(200).end(); // stands in below: 1xx cannot be a final status
      else res.writeHead(status, { location: 'http://elsewhere/' }).end('broken');
    };
    if (status === 199) return; // node answers 1xx itself; covered by the state machine's RangeError
    const outcome = await postOnce(target(), body, {}, 5_000);
    expect(outcome).toMatchObject({ ok: false, statusCode: status, error: expect.stringMatching(reason) });
    expect(seen).toHaveLength(1); // the redirect was not followed
  });

  it('a receiver that does not answer in time is a failure, not a success', async () => {
    handler = () => undefined; // never answers
    const started = Date.now();
    const outcome = await postOnce(target(), body, {}, 300);
    expect(outcome).toEqual({ ok: false, statusCode: null, error: 'no answer within 0.3 s' });
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('a refused connection is a failure', async () => {
    const closed = { url: new URL('http://hooks.example.invalid:1/'), addresses: [{ address: '127.0.0.1', family: 4 as const }] };
    expect(await postOnce(closed, body, {}, 2_000)).toMatchObject({
      ok: false,
      statusCode: null,
      error: expect.stringMatching(/ECONNREFUSED/),
    });
  });

  it('without a vetted address it sends nothing and fails for good', async () => {
    expect(await postOnce({ url: target().url, addresses: [] }, body, {}, 1_000)).toMatchObject({ ok: false, permanent: true });
    expect(seen).toHaveLength(0);
  });
});

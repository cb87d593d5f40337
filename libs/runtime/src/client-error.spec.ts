import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { answerClientError, clientErrorResponse } from './client-error';

/** Sends `raw` and returns everything the server wrote before closing. */
function exchange(port: number, raw: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(raw));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString()));
    socket.setTimeout(5000, () => socket.destroy(new Error('no answer in 5 s')));
  });
}

describe(answerClientError.name, () => {
  let server: Server;
  let port: number;

  beforeAll(async () => {
    // Reads the whole body before answering, as the API's parser does, so a broken body is met before any answer.
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    server.on('clientError', answerClientError);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const errorOf = (response: string) => JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4)) as { error: unknown };

  it.each([
    ['a 20 KB query string', `GET /api/x?a=${'x'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`, 431, 'HEADERS_TOO_LARGE'],
    ['a 20 KB header', `GET /api/x HTTP/1.1\r\nHost: x\r\nX-Pad: ${'x'.repeat(20_000)}\r\n\r\n`, 431, 'HEADERS_TOO_LARGE'],
    [
      'Content-Length beside Transfer-Encoding',
      'POST /api/x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      400,
      'INVALID_REQUEST',
    ],
    ['a garbage request line', 'HELLO THERE\r\n\r\n', 400, 'INVALID_REQUEST'],
    ['a bad chunk size', 'POST /api/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 400, 'INVALID_REQUEST'],
  ])('answers %s with a JSON error and closes', async (_name, raw, status, code) => {
    const response = await exchange(port, raw);

    expect(response).toMatch(new RegExp(`^HTTP/1.1 ${status} `));
    expect(response).toMatch(/\r\nContent-Type: application\/json; charset=utf-8\r\n/);
    expect(response).toMatch(/\r\nConnection: close\r\n/);
    expect(errorOf(response).error).toEqual({ code, message: expect.stringMatching(/^\S.{20,}$/) });
  });

  it('still serves valid requests', async () => {
    expect(await exchange(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).toMatch(/^HTTP\/1.1 200 [\s\S]*ok$/);
  });
});

describe(clientErrorResponse.name, () => {
  it.each(['ECONNRESET', 'EPIPE'])('writes nothing when the peer is gone (%s)', (code) => {
    expect(clientErrorResponse(Object.assign(new Error('gone'), { code }))).toBeUndefined();
  });

  it('answers the request bound with 408, as Node does', () => {
    expect(clientErrorResponse(Object.assign(new Error('timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' }))).toMatch(
      /^HTTP\/1.1 408 [\s\S]*REQUEST_TIMEOUT/,
    );
  });

  it('gives the exact length of a body with non-ASCII text', () => {
    const response = clientErrorResponse(Object.assign(new Error('x'), { code: 'HPE_INVALID_METHOD' }))!;
    const [head, body] = response.split('\r\n\r\n');
    expect(Number(/Content-Length: (\d+)/.exec(head)?.[1])).toBe(Buffer.byteLength(body));
  });
});

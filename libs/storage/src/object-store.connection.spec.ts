import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseEndpoint, withRequestTimeout } from './object-store.connection';
import { StorageErrorCode } from './storage.error';

describe(parseEndpoint.name, () => {
  it('accepts http(s) roots', () => {
    expect(parseEndpoint('http://127.0.0.1:9000').port).toBe('9000');
    expect(parseEndpoint('https://s3.example.com/').protocol).toBe('https:');
  });

  it.each(['not a url', 'ftp://host', 'http://host:9000/bucket'])('rejects %s', (endpoint) => {
    expect(() => parseEndpoint(endpoint)).toThrow(expect.objectContaining({ code: StorageErrorCode.INVALID }));
  });
});

describe(withRequestTimeout.name, () => {
  let server: http.Server;
  let port: number;

  beforeAll(async () => {
    // Answers /slow never, /stream with a head at once and the body much later.
    server = http.createServer((req, res) => {
      if (req.url === '/stream') {
        res.writeHead(200);
        res.write('a');
        setTimeout(() => res.end('b'), 300);
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const get = (path: string) =>
    new Promise<string>((resolve, reject) => {
      const req = withRequestTimeout(http, 100).request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve(body));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });

  it('fails a request whose answer does not start in time with ETIMEDOUT', async () => {
    await expect(get('/slow')).rejects.toMatchObject({ code: 'ETIMEDOUT' });
  });

  it('lets a started response take longer than the timeout', async () => {
    await expect(get('/stream')).resolves.toBe('ab');
  });
});

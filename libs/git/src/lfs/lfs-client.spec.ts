import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { UrlPolicy } from '../url-policy';
import { LfsClient, type LfsCredential, LfsObjectMissing, reasonOf } from './lfs-client';
import { LfsMissingCode } from './lfs-missing';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

/** A loopback LFS server whose answers the test decides; records each request's path and Authorization. */
async function startLfsServer(handler: Handler, host = '127.0.0.1') {
  const seen: { path: string; authorization?: string; hostile?: string }[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      seen.push({
        path: req.url ?? '',
        authorization: req.headers.authorization,
        hostile: req.headers['x-from-batch'] as string | undefined,
      });
      handler(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return { base: `http://${host}:${port}`, seen, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const object = (bytes: Buffer) => ({ oid: createHash('sha256').update(bytes).digest('hex'), size: bytes.length });
const bytesOf = async (stream: AsyncIterable<Buffer>) => {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
};

describe(LfsClient.name, () => {
  // 127.0.0.2 is loopback too, but not allowed: the policy must refuse it before any connection.
  const sut = new LfsClient({ policy: new UrlPolicy({ allowedHosts: ['127.0.0.1'] }) });
  const content = Buffer.from([0, 1, 2, 0xff, 0xfe, 0x0a, 0x41]);
  const pointer = object(content);
  const servers: { close: () => Promise<void> }[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  /** An LFS server whose batch answer points at `href(base)` for the pointer, and serves `served` at /obj. */
  const lfsServer = async (served: Buffer, href?: (base: string) => string) => {
    const server = await startLfsServer((req, res) => {
      if (req.method === 'POST' && req.url === '/repo.git/info/lfs/objects/batch') {
        const target = href ? href(server.base) : `${server.base}/obj`;
        res.writeHead(200, { 'content-type': 'application/vnd.git-lfs+json' });
        res.end(JSON.stringify({ objects: [{ ...pointer, actions: { download: { href: target, header: { 'X-From-Batch': 'yes' } } } }] }));
      } else if (req.url === '/obj') res.end(served);
      else res.writeHead(404).end();
    });
    servers.push(server);
    return server;
  };
  const credentialFor = (origin: string) => ({ origin, username: 'x-access-token', password: 'secret-token' });
  const fetchVia = async (
    served: Buffer,
    href?: (base: string) => string,
    credentialOf: (origin: string) => LfsCredential = credentialFor,
  ) => {
    const server = await lfsServer(served, href);
    const credential = credentialOf(server.base);
    const answers = await sut.batch(`${server.base}/repo.git/info/lfs`, [pointer], credential, AbortSignal.timeout(5000));
    const answer = answers.get(pointer.oid)!;
    if (answer.kind === 'missing') return { server, result: answer.reason };
    try {
      const { stream } = await sut.download(answer, pointer, credential, AbortSignal.timeout(5000));
      return { server, result: await bytesOf(stream) };
    } catch (error) {
      return { server, result: reasonOf(error, 'the download') };
    }
  };

  it('fetches an object whose bytes match its oid, sending the credential to its own origin with the batch headers', async () => {
    const { server, result } = await fetchVia(content);
    expect(result).toEqual(content);
    const basic = `Basic ${Buffer.from('x-access-token:secret-token').toString('base64')}`;
    expect(server.seen).toEqual([
      { path: '/repo.git/info/lfs/objects/batch', authorization: basic, hostile: undefined },
      { path: '/obj', authorization: basic, hostile: 'yes' },
    ]);
  });

  it('sends neither the credential nor the batch headers to an href on another origin', async () => {
    const other = await startLfsServer((_req, res) => res.end(content));
    servers.push(other);
    const { result } = await fetchVia(content, () => `${other.base}/elsewhere`);
    expect(result).toEqual(content);
    expect(other.seen).toEqual([{ path: '/elsewhere', authorization: undefined, hostile: 'yes' }]);
  });

  const basic = `Basic ${Buffer.from('x-access-token:secret-token').toString('base64')}`;
  it.each<[string, (origin: string) => LfsCredential, string]>([
    ['basic auth of the repository', credentialFor, basic],
    ['the headers git-lfs-authenticate gave', (origin) => ({ origin, header: { Authorization: 'Bearer from-ssh' } }), 'Bearer from-ssh'],
  ])('sends %s to its own origin (batch, href there) and never to an href on another origin', async (_name, credentialOf, sent) => {
    const same = await fetchVia(content, undefined, credentialOf);
    expect(same.result).toEqual(content);
    expect(same.server.seen.map((s) => s.authorization)).toEqual([sent, sent]);

    const other = await startLfsServer((_req, res) => res.end(content));
    servers.push(other);
    const elsewhere = await fetchVia(content, () => `${other.base}/elsewhere`, credentialOf);
    expect(elsewhere.result).toEqual(content);
    expect(elsewhere.server.seen.map((s) => s.authorization)).toEqual([sent]);
    expect(other.seen.map((s) => s.authorization)).toEqual([undefined]);
  });

  it("keeps the batch request's own headers whatever the credential's headers say", async () => {
    let contentType: string | undefined;
    const server = await startLfsServer((req, res) => {
      contentType = req.headers['content-type'];
      res.end(JSON.stringify({ objects: [] }));
    });
    servers.push(server);
    const credential = { origin: server.base, header: { 'Content-Type': 'text/plain', Authorization: 'Bearer t' } };
    await sut.batch(`${server.base}/repo.git/info/lfs`, [pointer], credential, AbortSignal.timeout(5000));
    expect(contentType).toBe('application/vnd.git-lfs+json');
    expect(server.seen[0]!.authorization).toBe('Bearer t');
  });

  it.each([
    ['bytes that hash to something else', Buffer.from([9, 9, 9, 9, 9, 9, 9]), LfsMissingCode.DIGEST_MISMATCH],
    ['fewer bytes', content.subarray(1), LfsMissingCode.SIZE_MISMATCH],
    ['more bytes', Buffer.concat([content, Buffer.from('x')]), LfsMissingCode.SIZE_MISMATCH],
  ])('refuses %s than the pointer names', async (_name, served, code) => {
    const { result } = await fetchVia(served);
    expect(result).toMatchObject({ code });
  });

  it.each([
    ['a blocked loopback address', 'http://127.0.0.2:9/x'],
    ['a private address', 'http://10.1.2.3/x'],
    ['the link-local metadata address', 'http://169.254.169.254/latest/meta-data'],
  ])('refuses an href to %s by policy, without connecting', async (_name, href) => {
    const { result } = await fetchVia(content, () => href);
    expect(result).toMatchObject({ code: LfsMissingCode.BLOCKED_BY_POLICY });
  });

  it('does not follow a redirect to a blocked address', async () => {
    const { result } = await fetchVia(content, (base) => `${base}/redirect`);
    expect(result).toMatchObject({ code: LfsMissingCode.NOT_ON_SERVER });
    const redirecting = await startLfsServer((_req, res) => res.writeHead(302, { location: 'http://127.0.0.2:9/x' }).end());
    servers.push(redirecting);
    const redirected = await fetchVia(content, () => `${redirecting.base}/go`);
    expect(redirected.result).toMatchObject({ code: LfsMissingCode.BLOCKED_BY_POLICY });
  });

  it.each([
    [404, LfsMissingCode.NOT_ON_SERVER],
    [401, LfsMissingCode.AUTH_REFUSED],
    [500, LfsMissingCode.SERVER_ERROR],
    [302, LfsMissingCode.INVALID_ANSWER],
  ])('makes every object of a batch answered HTTP %d missing', async (status, code) => {
    const server = await startLfsServer((_req, res) => res.writeHead(status, { location: '/x' }).end('{}'));
    servers.push(server);
    const answers = await sut.batch(`${server.base}/repo.git/info/lfs`, [pointer], undefined, AbortSignal.timeout(5000));
    expect(answers.get(pointer.oid)).toMatchObject({ kind: 'missing', reason: { code } });
  });

  it('makes every object missing when the batch answer is not JSON, or the endpoint is blocked', async () => {
    const server = await startLfsServer((_req, res) => res.end('<html>'));
    servers.push(server);
    const notJson = await sut.batch(`${server.base}/repo.git/info/lfs`, [pointer], undefined, AbortSignal.timeout(5000));
    expect(notJson.get(pointer.oid)).toMatchObject({ reason: { code: LfsMissingCode.INVALID_ANSWER } });
    const blocked = await sut.batch('http://127.0.0.2:9/repo.git/info/lfs', [pointer], undefined, AbortSignal.timeout(5000));
    expect(blocked.get(pointer.oid)).toMatchObject({ reason: { code: LfsMissingCode.BLOCKED_BY_POLICY } });
  });

  it('turns failures into reasons a person can act on', () => {
    expect(reasonOf(new LfsObjectMissing({ code: LfsMissingCode.NETWORK, message: 'm' }), 'x')).toEqual({
      code: LfsMissingCode.NETWORK,
      message: 'm',
    });
    expect(reasonOf(Object.assign(new Error('t'), { name: 'TimeoutError' }), 'the download')).toMatchObject({
      code: LfsMissingCode.TIMED_OUT,
    });
    expect(reasonOf(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }), 'the download')).toEqual({
      code: LfsMissingCode.NETWORK,
      message: 'the download failed (ECONNREFUSED)',
    });
  });
});

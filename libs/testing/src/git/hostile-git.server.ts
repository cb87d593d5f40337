import { spawn } from 'node:child_process';
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import { AddressInfo, Socket } from 'node:net';
import { fixtureBytes } from './fixture-repos.fixture';
import { httpBackendEnv, parseCgiHeaders, type GitServerHandle } from './git-http.server';
import { damageUploadPackResponse, pktLine, type PackDamage } from './pack-damage';

/**
 * How the server attacks its client. It plays a malicious or broken git host for tests of the
 * clone's limits; everything it does not attack is answered by the real `git http-backend`.
 */
export type HostileBehaviour =
  /** Attacks nothing: the control that shows a test's failure comes from the attack alone. */
  | { readonly kind: 'honest' }
  /** Accepts connections and reads requests, never answers. */
  | { readonly kind: 'silent' }
  /** Answers the ref advertisement (GET info/refs) truthfully, then never answers git's POSTs. */
  | { readonly kind: 'stall-after-advertisement' }
  /**
   * Streams pkt-line refs forever: as the v0 advertisement of every GET info/refs
   * (`where: 'info-refs'`); of every GET but the first (`'later-info-refs'`: an attacker that
   * tells a preflight apart from git's own request); or, after a truthful v2 capability
   * advertisement, as the answer to git's ls-refs POST (`'ls-refs'`, which a preflight reading
   * info/refs never sees).
   */
  | { readonly kind: 'endless-refs'; readonly where: 'info-refs' | 'later-info-refs' | 'ls-refs' }
  /** Serves the repository, but damages the pack git fetches. */
  | { readonly kind: 'corrupt-pack'; readonly damage: PackDamage };

export interface HostileGitServerOptions {
  readonly behaviour: HostileBehaviour;
  /** Directory of bare repositories served where the behaviour answers truthfully. */
  readonly root: string;
  readonly host?: string;
  readonly port?: number;
}

export interface HostileGitServerHandle extends GitServerHandle {
  readonly requests: number;
  /** Bytes of endless refs written so far. */
  readonly bytesStreamed: number;
}

const ADVERTISEMENT_TYPE = 'application/x-git-upload-pack-advertisement';
const RESULT_TYPE = 'application/x-git-upload-pack-result';

export async function startHostileGitServer(options: HostileGitServerOptions): Promise<HostileGitServerHandle> {
  const host = options.host ?? '127.0.0.1';
  const sockets = new Set<Socket>();
  let requests = 0;
  let advertisements = 0;
  let bytesStreamed = 0;
  const behaviour = options.behaviour;
  const random = seededRandom(0x5eed);

  const server = createServer((req, res) => {
    requests++;
    const url = new URL(req.url ?? '/', 'http://hostile.invalid');
    const isAdvertisement = req.method === 'GET' && url.pathname.endsWith('/info/refs');
    if (isAdvertisement) advertisements++;
    const isFirstAdvertisement = isAdvertisement && advertisements === 1;
    void (async () => {
      const body = await readBody(req);
      if (behaviour.kind === 'silent') return;
      if (behaviour.kind === 'stall-after-advertisement' && !isAdvertisement) return;
      if (behaviour.kind === 'endless-refs') {
        const endless = {
          'info-refs': isAdvertisement,
          'later-info-refs': isAdvertisement && !isFirstAdvertisement,
          'ls-refs': isLsRefs(body),
        }[behaviour.where];
        if (endless) return streamRefsForever(res, isAdvertisement, (n) => (bytesStreamed += n));
      }
      const answer = await httpBackend(options.root, req, url, body);
      if (behaviour.kind === 'corrupt-pack' && !isAdvertisement) {
        answer.body = damageUploadPackResponse(answer.body, behaviour.damage, random) ?? answer.body;
      }
      delete answer.headers['Content-Length'];
      res.writeHead(answer.status, answer.headers).end(answer.body);
    })().catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`hostile server error: ${String(error)}\n`);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const baseUrl = `http://${host}:${port}`;
  return {
    baseUrl,
    port,
    get requests() {
      return requests;
    },
    get bytesStreamed() {
      return bytesStreamed;
    },
    url: (name) => `${baseUrl}/${name.endsWith('.git') ? name : `${name}.git`}`,
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function isLsRefs(body: Buffer): boolean {
  return body.includes('command=ls-refs');
}

/**
 * Refs as fast as the client takes them, until it hangs up. The chunks are made once and
 * repeated (names recur every few MiB), so streaming costs this process next to no CPU: the
 * test sampling git's memory meanwhile runs in the same event loop.
 */
function streamRefsForever(res: ServerResponse, asAdvertisement: boolean, count: (bytes: number) => void): void {
  res.writeHead(200, { 'content-type': asAdvertisement ? ADVERTISEMENT_TYPE : RESULT_TYPE, 'cache-control': 'no-cache' });
  const sha = fixtureBytes(20).toString('hex');
  if (asAdvertisement) {
    res.write(Buffer.concat([pktLine('# service=git-upload-pack\n'), Buffer.from('0000')]));
    res.write(pktLine(`${sha} HEAD\0multi_ack side-band-64k ofs-delta\n`));
  }
  let next = 0;
  const pump = (): void => {
    while (!res.destroyed) {
      const chunk = ENDLESS_CHUNKS[next++ % ENDLESS_CHUNKS.length] as Buffer;
      count(chunk.length);
      if (!res.write(chunk)) return;
    }
  };
  res.on('drain', pump);
  pump();
}

const ENDLESS_CHUNKS: readonly Buffer[] = Array.from({ length: 16 }, (_, c) => {
  const sha = fixtureBytes(20).toString('hex');
  const lines: Buffer[] = [];
  for (let i = 0; i < 4096; i++) lines.push(pktLine(`${sha} refs/heads/endless/chunk-${c}/branch-${i}\n`));
  return Buffer.concat(lines);
});

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

interface CgiAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** One whole answer of `git http-backend` (fixture repositories are small enough to buffer). */
function httpBackend(root: string, req: IncomingMessage, url: URL, body: Buffer): Promise<CgiAnswer> {
  const env = { ...httpBackendEnv(root, req, url), CONTENT_LENGTH: String(body.length) };
  // The request body was read (and is passed) as sent; http-backend inflates it if gzipped.
  return new Promise((resolve, reject) => {
    const child = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'ignore'] });
    const out: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stdin.on('error', () => undefined);
    child.stdin.end(body);
    child.on('error', reject);
    child.on('close', () => {
      const all = Buffer.concat(out);
      const crlf = all.indexOf('\r\n\r\n');
      const end = crlf >= 0 ? { at: crlf, len: 4 } : { at: all.indexOf('\n\n'), len: 2 };
      if (end.at < 0) return reject(new Error('http-backend sent no headers'));
      const { status, headers } = parseCgiHeaders(all.subarray(0, end.at).toString('latin1'));
      resolve({ status, headers, body: all.subarray(end.at + end.len) });
    });
  });
}

/** Reproducible garbage, so a failing damage case fails the same way every run. */
function seededRandom(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x1_0000_0000;
  };
}

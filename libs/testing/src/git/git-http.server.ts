import { spawn, ChildProcess } from 'node:child_process';
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { constants as zlibConstants, gunzipSync } from 'node:zlib';
import { setTimeout as sleep } from 'node:timers/promises';
import { FIXTURE_SEARCH_PATH } from './fixture-git.command';

export interface GitServerHandle {
  /** e.g. `http://127.0.0.1:40123` (no trailing slash). */
  readonly baseUrl: string;
  readonly port: number;
  /** HTTP requests received so far (a server that must never be contacted checks it stays 0). */
  readonly requests?: number;
  /** URL of the repository `<name>.git` under the root (`name` may already end in `.git`). */
  url(name: string): string;
  stop(): Promise<void>;
}

export interface GitHttpServerHandle extends GitServerHandle {
  /**
   * Registers `/redirect/<name>` to answer with `status` and `Location: <target><rest>`, where
   * `<rest>` is what followed the prefix (e.g. `/info/refs?service=git-upload-pack`), the way a
   * moved repository redirects. Returns the URL to hand to the client.
   */
  redirect(name: string, target: string, status?: 301 | 302 | 303 | 307 | 308): string;
  /** Every request so far, in order: what a client asked of the server (e.g. whether it fetched a pack). */
  readonly requestLog: readonly GitHttpRequestRecord[];
}

export interface GitHttpRequestRecord {
  readonly method: string;
  /** The path, e.g. `/multi.git/info/refs` or `/multi.git/git-upload-pack`. */
  readonly path: string;
  readonly query: string;
  /** For a protocol v2 POST: the command asked (`ls-refs`, `fetch`); undefined otherwise (a v0 POST is always a fetch). */
  readonly command?: string;
}

export interface GitHttpServerOptions {
  /** Directory of bare repositories (`<name>.git`), served read-only. */
  readonly root: string;
  /** 0 picks a free port. */
  readonly port?: number;
  /** Loopback address to listen on (127.0.0.0/8 has many); default 127.0.0.1. */
  readonly host?: string;
  /** Delay before answering every request, to make clones slow enough to hit a deadline. */
  readonly latencyMs?: number;
  /**
   * `v0` serves the original protocol even to clients asking for v2 (as many servers still do);
   * default: whatever the client asks for.
   */
  readonly protocol?: 'v0' | 'client-choice';
}

const REDIRECT_PREFIX = '/redirect/';

/** Smart HTTP over loopback: each request runs `git http-backend` as a CGI script. */
export async function startGitHttpServer(options: GitHttpServerOptions): Promise<GitHttpServerHandle> {
  const redirects = new Map<string, { target: string; status: number }>();
  const children = new Set<ChildProcess>();
  const latencyMs = options.latencyMs ?? 0;
  const host = options.host ?? '127.0.0.1';
  let requests = 0;
  const requestLog: GitHttpRequestRecord[] = [];

  const server = createServer((req, res) => {
    requests++;
    const url = new URL(req.url ?? '/', 'http://fixture.invalid');
    const record: { -readonly [K in keyof GitHttpRequestRecord]: GitHttpRequestRecord[K] } = {
      method: req.method ?? '',
      path: url.pathname,
      query: url.search,
    };
    requestLog.push(record);
    void (async () => {
      if (latencyMs > 0) await sleep(latencyMs);
      if (url.pathname.startsWith(REDIRECT_PREFIX)) return answerRedirect(url, res, redirects);
      // Read alongside http-backend, never before it: a listener added earlier (during the latency) would swallow the body.
      if (req.method === 'POST') recordV2Command(req, record);
      runHttpBackend(options.root, req, res, url, children, options.protocol === 'v0');
    })().catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`fixture server error: ${String(error)}\n`);
    });
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
    requestLog,
    url: (name) => `${baseUrl}/${name.endsWith('.git') ? name : `${name}.git`}`,
    redirect(name, target, status = 301) {
      redirects.set(name, { target: target.replace(/\/+$/, ''), status });
      return `${baseUrl}${REDIRECT_PREFIX}${name}`;
    },
    async stop() {
      for (const child of children) child.kill('SIGKILL');
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function answerRedirect(url: URL, res: ServerResponse, redirects: Map<string, { target: string; status: number }>): void {
  const rest = url.pathname.slice(REDIRECT_PREFIX.length);
  const slash = rest.indexOf('/');
  const name = slash < 0 ? rest : rest.slice(0, slash);
  const entry = redirects.get(name);
  if (!entry) {
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('no such redirect\n');
    return;
  }
  res.writeHead(entry.status, { location: `${entry.target}${slash < 0 ? '' : rest.slice(slash)}${url.search}` });
  res.end();
}

/** The CGI environment `git http-backend` needs to answer `req` from the repositories under `root`. */
export function httpBackendEnv(root: string, req: IncomingMessage, url: URL): Record<string, string> {
  const header = (name: string): string | undefined => {
    const value = req.headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  };
  const env: Record<string, string> = {
    PATH: FIXTURE_SEARCH_PATH,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_PROJECT_ROOT: root,
    GIT_HTTP_EXPORT_ALL: '1',
    GATEWAY_INTERFACE: 'CGI/1.1',
    SERVER_PROTOCOL: `HTTP/${req.httpVersion}`,
    REQUEST_METHOD: req.method ?? 'GET',
    PATH_INFO: decodeURIComponent(url.pathname),
    QUERY_STRING: url.search.replace(/^\?/, ''),
    REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
  };
  const optional: Record<string, string | undefined> = {
    CONTENT_TYPE: header('content-type'),
    CONTENT_LENGTH: header('content-length'),
    // http-backend inflates gzip request bodies itself when told the encoding.
    HTTP_CONTENT_ENCODING: header('content-encoding'),
    // Lets clients negotiate protocol v2 through the CGI.
    HTTP_GIT_PROTOCOL: header('git-protocol'),
  };
  for (const [key, value] of Object.entries(optional)) if (value !== undefined) env[key] = value;
  return env;
}

/** Largest request body searched for a v2 command; the command comes first in any case. */
const COMMAND_SEARCH_BYTES = 64 * 1024;

/** Notes the `command=` of a v2 request (gzipped bodies too), reading alongside http-backend. */
function recordV2Command(req: IncomingMessage, record: { command?: string }): void {
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    if (size < COMMAND_SEARCH_BYTES) chunks.push(chunk);
    size += chunk.length;
  });
  req.on('end', () => {
    let body = Buffer.concat(chunks);
    if (/gzip/i.test(String(req.headers['content-encoding'] ?? ''))) {
      try {
        body = Buffer.from(gunzipSync(body, { finishFlush: zlibConstants.Z_SYNC_FLUSH }));
      } catch {
        return void (record.command = 'unreadable gzip body');
      }
    }
    const command = /command=([a-z-]+)/.exec(body.toString('latin1'))?.[1];
    if (command) record.command = command;
  });
}

function runHttpBackend(
  root: string,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  children: Set<ChildProcess>,
  onlyV0: boolean,
): void {
  const env = httpBackendEnv(root, req, url);
  if (onlyV0) delete env.HTTP_GIT_PROTOCOL;
  const child = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(child);
  child.on('close', () => children.delete(child));
  child.on('error', () => {
    if (!res.headersSent) res.writeHead(500);
    res.end();
  });
  child.stdin.on('error', () => undefined);
  req.pipe(child.stdin);
  child.stderr.resume();
  res.on('close', () => {
    if (child.exitCode === null) child.kill('SIGTERM');
  });

  let head = Buffer.alloc(0);
  let headersDone = false;
  child.stdout.on('data', (chunk: Buffer) => {
    if (headersDone) {
      if (!res.write(chunk)) {
        child.stdout.pause();
        res.once('drain', () => child.stdout.resume());
      }
      return;
    }
    head = Buffer.concat([head, chunk]);
    const crlf = head.indexOf('\r\n\r\n');
    const lf = head.indexOf('\n\n');
    const end = crlf >= 0 && (lf < 0 || crlf < lf) ? { at: crlf, len: 4 } : lf >= 0 ? { at: lf, len: 2 } : null;
    if (!end) return;
    headersDone = true;
    const { status, headers } = parseCgiHeaders(head.subarray(0, end.at).toString('latin1'));
    res.writeHead(status, headers);
    res.write(head.subarray(end.at + end.len));
  });
  child.stdout.on('end', () => {
    if (!headersDone) res.writeHead(502, { 'content-type': 'text/plain' }).end('http-backend sent no headers\n');
    else res.end();
  });
}

export function parseCgiHeaders(text: string): { status: number; headers: Record<string, string> } {
  let status = 200;
  const headers: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === 'status') status = parseInt(value, 10) || 500;
    else headers[name] = value;
  }
  return { status, headers };
}

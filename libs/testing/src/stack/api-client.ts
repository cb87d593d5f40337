/** What a test sends: a bearer token, a JSON body or a raw one, extra headers. */
export interface ApiRequestOptions {
  token?: string;
  json?: unknown;
  body?: string;
  headers?: Record<string, string>;
}

export interface ApiResponse<T = unknown> {
  status: number;
  /** Parsed JSON when the answer is JSON, else the text. */
  body: T;
  text: string;
  headers: Headers;
}

/** The archive as `GET /api/archives/:id` shows it (the fields tests read). */
export interface ArchiveView {
  id: string;
  url: string;
  normalizedUrl: string;
  status: 'pending' | 'queued' | 'running' | 'completed' | 'failed';
  createdAt: string;
  injectedAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  attempts: number;
  error: { code: string; message: string } | null;
  bucket: string | null;
  prefix: string | null;
  commit: string | null;
  refCount: number | null;
  fileCount: number | null;
  byteCount: number | null;
}

/** One place for the REST calls integration tests make against a real frontend. */
export class ApiClient {
  constructor(
    private readonly baseUrl: string,
    private readonly defaultToken?: string,
  ) {}

  async call<T = unknown>(method: string, route: string, options: ApiRequestOptions = {}): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...options.headers };
    const token = options.token ?? this.defaultToken;
    if (token) headers.authorization = `Bearer ${token}`;
    let body = options.body;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(`${this.baseUrl}${route}`, { method, headers, body, signal: AbortSignal.timeout(20_000) });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      // Not JSON (the docs page): tests look at the text.
    }
    return { status: response.status, body: parsed as T, text, headers: response.headers };
  }

  /** POST /api/archives, expecting 202. */
  async submit(url: string, token?: string): Promise<ArchiveView> {
    const res = await this.call<ArchiveView>('POST', '/api/archives', { json: { url }, token });
    if (res.status !== 202) throw new Error(`submitting ${url} answered ${res.status}: ${res.text}`);
    return res.body;
  }

  async archive(id: string): Promise<ArchiveView> {
    const res = await this.call<ArchiveView>('GET', `/api/archives/${id}`);
    if (res.status !== 200) throw new Error(`GET /api/archives/${id} answered ${res.status}: ${res.text}`);
    return res.body;
  }
}

/** Polls the archive until it is completed or failed. */
export async function settledArchive(client: ApiClient, id: string, timeoutMs = 90_000): Promise<ArchiveView> {
  const deadline = Date.now() + timeoutMs;
  let last: ArchiveView | undefined;
  while (Date.now() < deadline) {
    last = await client.archive(id).catch(() => last);
    if (last && (last.status === 'completed' || last.status === 'failed')) return last;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`archive ${id} did not finish within ${timeoutMs} ms (last seen: ${JSON.stringify(last)})`);
}

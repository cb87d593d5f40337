import { waitFor } from '../support/wait-for';

/** What a test sends: a bearer token, a JSON body or a raw one, extra headers. */
export interface ApiRequestOptions {
  /** Overrides the client's token for this call; `null` sends none. */
  token?: string | null;
  json?: unknown;
  body?: string;
  headers?: Record<string, string>;
}

export interface ApiResponse<T = unknown> {
  status: number;
  /** Parsed JSON when the answer is JSON, else the text (undefined when empty). */
  body: T;
  text: string;
  headers: Headers;
}

/** The body of every error answer of the API. */
export interface ApiErrorBody {
  error: { code: string; message: string };
}

/** The archive as `GET /api/archives/:id` shows it (the fields tests read). */
export interface ArchiveView {
  id: string;
  url: string;
  normalizedUrl: string;
  status: 'pending' | 'queued' | 'running' | 'completed' | 'failed';
  requestedBy: string;
  requestedByName: string | null;
  /** Only in a submission's answer: true when an active archive of the same repository was returned. */
  existing?: boolean;
  createdAt: string;
  injectedAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  durations: { waitMs: number | null; injectMs: number | null; runMs: number | null; totalMs: number | null };
  attempts: number;
  error: { code: string; message: string } | null;
  bucket: string | null;
  prefix: string | null;
  consoleUrl: string | null;
  commit: string | null;
  refCount: number | null;
  fileCount: number | null;
  byteCount: number | null;
}

/** A fixed bearer token, or one fetched per call (tokens expire during long browser tests). */
export type TokenSource = string | (() => Promise<string>);

/** One place for the REST calls integration tests make against a real frontend. */
export class ApiClient {
  constructor(
    private readonly baseUrl: string,
    private readonly defaultToken?: TokenSource,
  ) {}

  async call<T = unknown>(method: string, route: string, options: ApiRequestOptions = {}): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...options.headers };
    const token = options.token === undefined ? await this.resolveDefaultToken() : options.token;
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

  /** POST /api/archives, expecting 202 (a new archive). */
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

  private async resolveDefaultToken(): Promise<string | undefined> {
    return typeof this.defaultToken === 'function' ? this.defaultToken() : this.defaultToken;
  }
}

/** Polls the archive until it is completed or failed; a timeout names the last state seen. */
export async function settledArchive(client: ApiClient, id: string, timeoutMs = 90_000): Promise<ArchiveView> {
  let last: ArchiveView | undefined;
  const settled = async () => {
    last = await client.archive(id);
    return last.status === 'completed' || last.status === 'failed' ? last : undefined;
  };
  try {
    return await waitFor(`archive ${id} to finish`, settled, timeoutMs, 250);
  } catch (error) {
    throw new Error(`${(error as Error).message} (last seen: ${JSON.stringify(last)})`, { cause: error });
  }
}

/** An ApiClient that keeps the text of every answer in `answers`, for tests that search them for secrets. */
export class RecordingApiClient extends ApiClient {
  constructor(
    baseUrl: string,
    defaultToken: TokenSource | undefined,
    readonly answers: string[],
  ) {
    super(baseUrl, defaultToken);
  }

  override async call<T = unknown>(method: string, route: string, options: ApiRequestOptions = {}): Promise<ApiResponse<T>> {
    const response = await super.call<T>(method, route, options);
    this.answers.push(response.text);
    return response;
  }
}

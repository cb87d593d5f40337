import type { ForgedRequest } from './forged-requests';

/** What came back for one forged request. */
export interface ForgedExchange {
  request: ForgedRequest;
  /** As which user (for the report). */
  as: string;
  status?: number;
  text: string;
  elapsedMs: number;
  /** Set when no answer came: a timeout or a dropped connection. */
  failure?: string;
}

/**
 * Sends every request with at most `concurrency` in flight, each bounded by `timeoutMs`, and
 * never throws: a request that fails is an exchange with `failure`, so one run reports them all.
 */
export async function sendForged(
  baseUrl: string,
  requests: ForgedRequest[],
  options: { token?: string; as: string; concurrency: number; timeoutMs: number },
): Promise<ForgedExchange[]> {
  const exchanges: ForgedExchange[] = [];
  let next = 0;
  const lane = async () => {
    while (next < requests.length) {
      const request = requests[next++];
      exchanges.push(await sendOne(baseUrl, request, options));
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, lane));
  return exchanges;
}

async function sendOne(
  baseUrl: string,
  request: ForgedRequest,
  options: { token?: string; as: string; timeoutMs: number },
): Promise<ForgedExchange> {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (request.contentType) headers['content-type'] = request.contentType;
  Object.assign(headers, request.headers);
  const started = Date.now();
  try {
    // Bytes, not a string: fetch would add `text/plain` to a string body that should have no type.
    const body = request.body === undefined ? undefined : Buffer.from(request.body);
    const response = await fetch(`${baseUrl}${request.target}`, {
      method: request.method,
      headers,
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    const text = await response.text();
    return { request, as: options.as, status: response.status, text, elapsedMs: Date.now() - started };
  } catch (error) {
    const failure = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return { request, as: options.as, text: '', elapsedMs: Date.now() - started, failure };
  }
}

const STACK_TRACE = /\n\s+at /;
const DATABASE_INTERNALS = /Prisma|Invalid `prisma/;
/**
 * Libraries' own words, which name no field and no fix: zod's ("Invalid input: expected object,
 * received undefined"), the router's for a bad percent-escape, zlib's for a body that is not
 * what its Content-Encoding says.
 */
const LIBRARY_DEFAULT_MESSAGE =
  /^Invalid input|expected \w+, received \w+|^Failed to decode param|^incorrect header check$|^Decompression failed$|^unexpected end of file$/;

/**
 * Why an answer to forged input breaks the API's rule (a 4xx `{error: {code, message}}`, no
 * internals, in time), or an empty list. `slowMs` bounds how long one answer may take.
 */
export function forgedAnswerProblems(exchange: ForgedExchange, slowMs: number): string[] {
  if (exchange.failure) return [`no answer (${exchange.failure})`];
  const problems: string[] = [];
  const status = exchange.status ?? 0;
  if (status >= 500) problems.push(`status ${status}`);
  if (status >= 400) {
    const error = errorOf(exchange.text);
    if (typeof error?.code !== 'string' || error.code === '') problems.push('no JSON error.code');
    if (typeof error?.message !== 'string' || error.message.trim() === '') problems.push('no JSON error.message');
    else if (LIBRARY_DEFAULT_MESSAGE.test(error.message)) problems.push("a library's default message");
  }
  if (STACK_TRACE.test(exchange.text)) problems.push('a stack trace in the body');
  if (DATABASE_INTERNALS.test(exchange.text)) problems.push('database internals in the body');
  if (exchange.elapsedMs > slowMs) problems.push(`took ${exchange.elapsedMs} ms`);
  return problems;
}

function errorOf(text: string): { code?: unknown; message?: unknown } | undefined {
  try {
    const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } } | null;
    return typeof parsed?.error === 'object' && parsed.error !== null ? parsed.error : undefined;
  } catch {
    return undefined;
  }
}

/** One line per broken answer: who, method, target, what was forged, what came back. */
export function describeForgedFailure(exchange: ForgedExchange, problems: string[]): string {
  const { request } = exchange;
  const target = request.target.length > 160 ? `${request.target.slice(0, 160)}…` : request.target;
  const excerpt = exchange.text.replace(/\s+/g, ' ').slice(0, 300);
  return `${exchange.as} ${request.method} ${target} [${request.input}] → ${exchange.status ?? '-'} (${problems.join(', ')}): ${excerpt}`;
}

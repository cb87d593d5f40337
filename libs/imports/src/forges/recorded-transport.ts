import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { IncomingHttpHeaders } from 'node:http';
import type { ForgeTransport } from '../forge-http';

/** One recorded answer: a fixture file under ../fixtures (or an inline body) with its status and headers. */
export interface RecordedAnswer {
  status?: number;
  headers?: IncomingHttpHeaders;
  fixture?: string;
  body?: string;
}

/**
 * Serves recorded forge answers by exact URL, for unit tests of the forge clients, and keeps
 * every request it was asked (URL and headers); a URL nobody recorded fails the test loudly.
 */
export function recordedTransport(
  answers: Record<string, RecordedAnswer>,
): ForgeTransport & { requests: { url: string; headers: Record<string, string> }[] } {
  const requests: { url: string; headers: Record<string, string> }[] = [];
  const transport = async (url: URL, headers: Record<string, string>) => {
    requests.push({ url: url.href, headers });
    const answer = answers[url.href];
    if (!answer) throw new Error(`no recorded answer for ${url.href}`);
    const body = answer.fixture ? readFileSync(path.join(__dirname, '../fixtures', answer.fixture)) : Buffer.from(answer.body ?? '[]');
    return { statusCode: answer.status ?? 200, headers: answer.headers ?? {}, body };
  };
  return Object.assign(transport, { requests });
}

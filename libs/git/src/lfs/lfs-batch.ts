import type { LfsPointer } from './lfs-pointer';
import { LfsMissingCode, type LfsMissingReason } from './lfs-missing';

/** What the batch API said about one requested object: where to download it, or why not. */
export type LfsBatchAnswer =
  | { readonly kind: 'download'; readonly href: string; readonly header: Readonly<Record<string, string>> }
  | { readonly kind: 'missing'; readonly reason: LfsMissingReason };

export const LFS_MEDIA_TYPE = 'application/vnd.git-lfs+json';

/** The request body of a download batch (LFS API v1, basic transfer only). */
export function batchRequestBody(objects: readonly LfsPointer[]): string {
  return JSON.stringify({ operation: 'download', transfers: ['basic'], objects: objects.map(({ oid, size }) => ({ oid, size })) });
}

const OID = /^[0-9a-f]{64}$/;
/** A header name as HTTP allows (token chars); values must not break a header line. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HEADER_VALUE = /^[^\r\n\0]*$/;
/** Headers the server may not set on our download request: they belong to the connection. */
const FORBIDDEN_HEADERS = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'upgrade', 'te', 'trailer']);

function invalid(message: string): LfsBatchAnswer {
  return { kind: 'missing', reason: { code: LfsMissingCode.INVALID_ANSWER, message } };
}

/**
 * Checks a batch answer object by object against what was asked: only requested oids, with
 * the requested size, and a download action of an absolute http(s) href with plain headers.
 * Whatever is malformed makes that object (or, for a malformed whole, every object) missing
 * with a reason; nothing here throws. Each requested oid gets exactly one answer.
 */
export function parseBatchResponse(body: unknown, requested: readonly LfsPointer[]): Map<string, LfsBatchAnswer> {
  const answers = new Map<string, LfsBatchAnswer>();
  const everyone = (answer: LfsBatchAnswer) => new Map(requested.map((p) => [p.oid, answer]));
  if (!isRecord(body) || !Array.isArray(body.objects)) return everyone(invalid('the batch answer has no "objects" list'));
  if (body.transfer !== undefined && body.transfer !== 'basic') {
    return everyone(invalid(`the batch answer chose the transfer ${JSON.stringify(body.transfer)}; only "basic" was offered`));
  }
  const sizes = new Map(requested.map((p) => [p.oid, p.size]));
  for (const item of body.objects as unknown[]) {
    if (!isRecord(item) || typeof item.oid !== 'string' || !OID.test(item.oid) || !sizes.has(item.oid) || answers.has(item.oid)) continue;
    answers.set(item.oid, answerFor(item, sizes.get(item.oid)!));
  }
  for (const { oid } of requested) {
    if (!answers.has(oid)) answers.set(oid, invalid('the batch answer did not mention this object'));
  }
  return answers;
}

function answerFor(item: Record<string, unknown>, size: number): LfsBatchAnswer {
  if (isRecord(item.error)) {
    const code = typeof item.error.code === 'number' ? item.error.code : 0;
    const said = typeof item.error.message === 'string' ? `: ${item.error.message.slice(0, 200)}` : '';
    if (code === 404 || code === 410)
      return {
        kind: 'missing',
        reason: { code: LfsMissingCode.NOT_ON_SERVER, message: `the LFS server does not have it (${code}${said})` },
      };
    if (code === 401 || code === 403)
      return { kind: 'missing', reason: { code: LfsMissingCode.AUTH_REFUSED, message: `the LFS server refused access (${code}${said})` } };
    return { kind: 'missing', reason: { code: LfsMissingCode.SERVER_ERROR, message: `the LFS server reported error ${code}${said}` } };
  }
  if (item.size !== undefined && item.size !== size)
    return invalid(`the batch answer gives size ${String(item.size)}, the pointer ${size}`);
  const download = isRecord(item.actions) ? item.actions.download : undefined;
  if (!isRecord(download)) return invalid('the batch answer offers no download for this object');
  if (typeof download.href !== 'string') return invalid('the download action has no href');
  let href: URL;
  try {
    href = new URL(download.href);
  } catch {
    return invalid('the download href is not an absolute URL');
  }
  if (href.protocol !== 'https:' && href.protocol !== 'http:') return invalid(`the download href uses ${href.protocol}, not http(s)`);
  if (href.username !== '' || href.password !== '') return invalid('the download href carries a user name or password');
  const header = sendableHeaders(download.header);
  if ('refused' in header) return invalid(`the download action${header.refused}`);
  return { kind: 'download', href: href.href, header: header.header };
}

/**
 * A server-given `header` object (batch actions, git-lfs-authenticate) as headers we may send:
 * string values, token names, no line breaks or NULs, nothing that belongs to the connection.
 * Absent is none; anything else is refused whole, with why (completing "the answer…").
 */
export function sendableHeaders(raw: unknown): { header: Record<string, string> } | { refused: string } {
  if (raw === undefined) return { header: {} };
  if (!isRecord(raw)) return { refused: '\'s "header" is not an object' };
  for (const [name, value] of Object.entries(raw)) {
    if (typeof value !== 'string' || !HEADER_NAME.test(name) || !HEADER_VALUE.test(value) || FORBIDDEN_HEADERS.has(name.toLowerCase())) {
      return { refused: ` sets a header that cannot be sent (${JSON.stringify(name.slice(0, 64))})` };
    }
  }
  // fromEntries defines each name as an own property, even "__proto__".
  return { header: Object.fromEntries(Object.entries(raw)) as Record<string, string> };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

import { createHash } from 'node:crypto';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Transform, type TransformCallback } from 'node:stream';
import { GitError, GitErrorCode } from '../git.error';
import { pinnedLookup } from '../redirect-preflight';
import type { UrlPolicy } from '../url-policy';
import { batchRequestBody, LFS_MEDIA_TYPE, type LfsBatchAnswer, parseBatchResponse } from './lfs-batch';
import { originToVet } from './lfs-endpoint';
import { LfsMissingCode, type LfsMissingReason } from './lfs-missing';
import type { LfsPointer } from './lfs-pointer';

/**
 * What opens the LFS server, for one origin only (as git's credential helper is scoped): the
 * repository's basic auth, or the headers git-lfs-authenticate gave for its href over SSH.
 */
export type LfsCredential =
  | { readonly origin: string; readonly username: string; readonly password: string }
  | { readonly origin: string; readonly header: Readonly<Record<string, string>> };

export interface LfsClientOptions {
  readonly policy: UrlPolicy;
  /** Objects asked about per batch request (the API suggests at most 100). */
  readonly batchSize?: number;
  /** Largest batch answer read. */
  readonly maxBatchAnswerBytes?: number;
  /** Redirects a download may follow, each vetted. */
  readonly maxRedirects?: number;
}

/** An object could not be had; the reason goes into the manifest. */
export class LfsObjectMissing extends Error {
  constructor(readonly reason: LfsMissingReason) {
    super(reason.message);
  }
}

const DEFAULT_BATCH_SIZE = 100;
const DEFAULT_MAX_BATCH_ANSWER_BYTES = 16 * 1024 * 1024;
const USER_AGENT = 'git-lfs/3 (repository-archiver)';

/**
 * Talks the Git LFS batch API itself (download, basic transfer), so every connection it makes
 * is one this process opened: each host (the batch endpoint, every href, every redirect) is
 * vetted by the URL policy and connected to at the address vetted, and the credential stays in
 * this process's memory, sent only to its own origin (the repository's, or for an SSH remote
 * the href git-lfs-authenticate gave). See README "Git LFS".
 */
export class LfsClient {
  constructor(private readonly options: LfsClientOptions) {}

  /** What the server says about each pointer; a failure of the whole batch makes each of them missing with its reason. */
  async batch(
    endpoint: string,
    pointers: readonly LfsPointer[],
    credential: LfsCredential | undefined,
    signal: AbortSignal,
  ): Promise<Map<string, LfsBatchAnswer>> {
    const answers = new Map<string, LfsBatchAnswer>();
    const size = this.options.batchSize ?? DEFAULT_BATCH_SIZE;
    for (let start = 0; start < pointers.length; start += size) {
      const group = pointers.slice(start, start + size);
      try {
        const body = await this.postBatch(`${endpoint}/objects/batch`, group, credential, signal);
        for (const [oid, answer] of parseBatchResponse(body, group)) answers.set(oid, answer);
      } catch (error) {
        signal.throwIfAborted();
        const reason = reasonOf(error, 'the batch request');
        for (const { oid } of group) answers.set(oid, { kind: 'missing', reason });
      }
    }
    return answers;
  }

  /**
   * The object's bytes as a stream that fails (LfsObjectMissing) unless they are exactly
   * `pointer.size` bytes hashing to `pointer.oid`: consumers that store it must let that failure
   * abort the store. Headers of the batch answer go only to the href's own origin; the
   * credential only when the href is on the credential's origin and the answer gave no
   * Authorization.
   */
  async download(
    answer: Extract<LfsBatchAnswer, { kind: 'download' }>,
    pointer: LfsPointer,
    credential: LfsCredential | undefined,
    signal: AbortSignal,
  ): Promise<{ stream: Transform; response: IncomingMessage }> {
    let url = new URL(answer.href);
    const firstOrigin = url.origin;
    for (let hop = 0; ; hop++) {
      const given = url.origin === firstOrigin ? answer.header : {};
      const hasAuthorization = Object.keys(given).some((name) => name.toLowerCase() === 'authorization');
      const headers = { ...given, ...(hasAuthorization ? {} : credentialHeaders(url, credential)), 'user-agent': USER_AGENT };
      const response = await this.send('GET', url, headers, undefined, signal);
      const status = response.statusCode ?? 0;
      if (status >= 300 && status < 400 && response.headers.location && hop < (this.options.maxRedirects ?? 3)) {
        response.resume();
        const next = new URL(response.headers.location, url);
        if (url.protocol === 'https:' && next.protocol === 'http:') {
          throw new LfsObjectMissing({
            code: LfsMissingCode.BLOCKED_BY_POLICY,
            message: `the download redirects from https to plain http (${next.host})`,
          });
        }
        url = next;
        continue;
      }
      if (status < 200 || status >= 300) {
        response.resume();
        throw new LfsObjectMissing(reasonForStatus(status, 'the download'));
      }
      const stream = new VerifyingStream(pointer);
      response.on('error', (error) => stream.destroy(new LfsObjectMissing(reasonOf(error, 'the download'))));
      response.pipe(stream);
      return { stream, response };
    }
  }

  private async postBatch(
    url: string,
    group: readonly LfsPointer[],
    credential: LfsCredential | undefined,
    signal: AbortSignal,
  ): Promise<unknown> {
    const target = new URL(url);
    const body = batchRequestBody(group);
    // The request's own headers last: a server-given credential header cannot replace them.
    const headers = {
      ...credentialHeaders(target, credential),
      accept: LFS_MEDIA_TYPE,
      'content-type': LFS_MEDIA_TYPE,
      'content-length': String(Buffer.byteLength(body)),
      'user-agent': USER_AGENT,
    };
    const response = await this.send('POST', target, headers, body, signal);
    const status = response.statusCode ?? 0;
    if (status < 200 || status >= 300) {
      response.resume();
      throw new LfsObjectMissing(reasonForStatus(status, 'the batch request'));
    }
    const limit = this.options.maxBatchAnswerBytes ?? DEFAULT_MAX_BATCH_ANSWER_BYTES;
    const chunks: Buffer[] = [];
    let received = 0;
    for await (const chunk of response as AsyncIterable<Buffer>) {
      received += chunk.length;
      if (received > limit) {
        response.destroy();
        throw new LfsObjectMissing({ code: LfsMissingCode.INVALID_ANSWER, message: `the batch answer is larger than ${limit} bytes` });
      }
      chunks.push(chunk);
    }
    try {
      return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    } catch {
      throw new LfsObjectMissing({ code: LfsMissingCode.INVALID_ANSWER, message: 'the batch answer is not JSON' });
    }
  }

  /** One request to a vetted address; the policy's refusal becomes BLOCKED_BY_POLICY for the object. */
  private async send(
    method: 'GET' | 'POST',
    url: URL,
    headers: Record<string, string>,
    body: string | undefined,
    signal: AbortSignal,
  ): Promise<IncomingMessage> {
    let vetted;
    try {
      vetted = await this.options.policy.check(originToVet(url));
    } catch (error) {
      if (error instanceof GitError && error.code !== GitErrorCode.NETWORK) {
        throw new LfsObjectMissing({
          code: LfsMissingCode.BLOCKED_BY_POLICY,
          message: `refused to connect to ${url.host}: ${error.message}`,
        });
      }
      throw error;
    }
    signal.throwIfAborted();
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(
        {
          method,
          hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
          port: url.port || undefined,
          path: `${url.pathname}${url.search}`,
          headers,
          lookup: pinnedLookup(vetted.addresses),
          agent: false,
          signal,
        },
        resolve,
      );
      req.on('error', reject);
      req.end(body);
    });
  }
}

/** Counts and hashes the bytes; fails at the end unless they are the pointer's object. */
class VerifyingStream extends Transform {
  private readonly hash = createHash('sha256');
  private bytes = 0;

  constructor(private readonly pointer: LfsPointer) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.pointer.size) return callback(this.sizeMismatch());
    this.hash.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (this.bytes !== this.pointer.size) return callback(this.sizeMismatch());
    const digest = this.hash.digest('hex');
    if (digest !== this.pointer.oid) {
      return callback(
        new LfsObjectMissing({
          code: LfsMissingCode.DIGEST_MISMATCH,
          message: `the server sent ${this.bytes} bytes whose sha256 is ${digest}, not the pointer's oid`,
        }),
      );
    }
    callback();
  }

  private sizeMismatch(): LfsObjectMissing {
    const seen = this.bytes > this.pointer.size ? `more than ${this.pointer.size}` : String(this.bytes);
    return new LfsObjectMissing({
      code: LfsMissingCode.SIZE_MISMATCH,
      message: `the pointer says ${this.pointer.size} bytes, the server sent ${seen}`,
    });
  }
}

function credentialHeaders(url: URL, credential: LfsCredential | undefined): Record<string, string> {
  if (!credential || url.origin !== credential.origin) return {};
  if ('header' in credential) return { ...credential.header };
  return { authorization: `Basic ${Buffer.from(`${credential.username}:${credential.password}`, 'utf8').toString('base64')}` };
}

function reasonForStatus(status: number, what: string): LfsMissingReason {
  if (status === 404 || status === 410)
    return { code: LfsMissingCode.NOT_ON_SERVER, message: `${what} answered HTTP ${status}: the server does not have it` };
  if (status === 401 || status === 403)
    return { code: LfsMissingCode.AUTH_REFUSED, message: `${what} answered HTTP ${status}: access refused` };
  if (status >= 300 && status < 400)
    return { code: LfsMissingCode.INVALID_ANSWER, message: `${what} answered HTTP ${status}: a redirect that is not followed` };
  return { code: LfsMissingCode.SERVER_ERROR, message: `${what} answered HTTP ${status}` };
}

/** Any failure as a reason; the caller has already rethrown its own abort. */
export function reasonOf(error: unknown, what: string): LfsMissingReason {
  if (error instanceof LfsObjectMissing) return error.reason;
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return { code: LfsMissingCode.TIMED_OUT, message: `${what} did not finish in time` };
  }
  const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
  return { code: LfsMissingCode.NETWORK, message: `${what} failed (${code})` };
}

import { once } from 'node:events';
import { Readable } from 'node:stream';
import { GitError, GitErrorCode } from './git.error';
import { abortedError, GitRuntimeOptions, killOnAbort, spawnGit } from './git-process';

/** Longest `<sha> <type> <size>` header we accept (SHA-256 ids included). */
const MAX_HEADER_BYTES = 512;
const OBJECT_ID = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

/**
 * Pull-based reader over a child's stdout. Nothing is read from the pipe until someone asks,
 * so when a consumer stops reading a blob, git blocks on its full pipe: memory stays bounded
 * by stream buffers however large the blob is.
 */
class PipeReader {
  private leftover: Buffer | null = null;
  private readonly chunks: AsyncIterator<Buffer>;

  constructor(source: Readable) {
    this.chunks = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }

  /** Next bytes from the pipe, at most `max`; null at end of output. */
  async read(max: number): Promise<Buffer | null> {
    let chunk = this.leftover;
    this.leftover = null;
    if (chunk === null) {
      const next = await this.chunks.next();
      if (next.done) return null;
      chunk = next.value;
    }
    if (chunk.length > max) {
      this.leftover = chunk.subarray(max);
      chunk = chunk.subarray(0, max);
    }
    return chunk;
  }

  async readLine(): Promise<string | null> {
    const parts: Buffer[] = [];
    let length = 0;
    for (;;) {
      const chunk = await this.read(MAX_HEADER_BYTES);
      if (chunk === null) return length === 0 ? null : Buffer.concat(parts).toString('utf8');
      const newline = chunk.indexOf(0x0a);
      if (newline >= 0) {
        this.unread(chunk.subarray(newline + 1));
        parts.push(chunk.subarray(0, newline));
        return Buffer.concat(parts).toString('utf8');
      }
      parts.push(chunk);
      length += chunk.length;
      if (length > MAX_HEADER_BYTES) throw new GitError(GitErrorCode.GIT_FAILED, 'git cat-file sent an over-long header');
    }
  }

  private unread(rest: Buffer): void {
    if (rest.length > 0) this.leftover = this.leftover ? Buffer.concat([rest, this.leftover]) : rest;
  }

  async close(): Promise<void> {
    await this.chunks.return?.();
  }
}

export interface BatchedBlob {
  readonly size: number;
  /** Exactly `size` bytes of the object; must be read to the end (or destroyed) before the next. */
  readonly stream: Readable;
}

/**
 * One long-running `git cat-file --batch` serving objects one at a time, in request order.
 * Sequential by design: the uploader streams each blob to storage with its known size.
 */
export class BlobBatchReader {
  private readonly child;
  private readonly pipe: PipeReader;
  private stderr = '';
  private current: { body: Readable; remaining: () => number; idle: () => Promise<void> } | null = null;
  /** Ids already written to git by prefetch() and not yet read, in order. */
  private prefetched: string[] = [];
  private nextPrefetched = 0;
  private readonly unwatch: () => void;

  /** `signal` kills git (SIGKILL: it only reads): the blob being read and the next read() fail with ABORTED. */
  constructor(
    gitDir: string,
    runtime: GitRuntimeOptions = {},
    private readonly signal?: AbortSignal,
  ) {
    this.child = spawnGit(['cat-file', '--batch'], gitDir, runtime);
    this.unwatch = killOnAbort(this.child, signal);
    this.child.stderr.on('data', (chunk: Buffer) => (this.stderr = (this.stderr + chunk.toString('utf8')).slice(-4096)));
    this.child.stdin.on('error', () => undefined); // a dead git surfaces as end of stdout instead
    this.pipe = new PipeReader(this.child.stdout);
  }

  /**
   * Asks git for the next objects in one write, ahead of read(), which must then ask for
   * exactly these, in this order. Only the ids run ahead: git writes an object's bytes when
   * they are read, so memory stays bounded. One write per object was a pipe round trip per
   * file, and ~20% of the uploader's CPU on a tree of 10,000 small files (bench/README.md).
   */
  prefetch(objectIds: readonly string[]): void {
    for (const id of objectIds) {
      if (!OBJECT_ID.test(id)) throw new GitError(GitErrorCode.INVALID_ARGUMENT, `Not an object id: ${JSON.stringify(id)}`);
    }
    if (objectIds.length === 0) return;
    this.prefetched = [...this.prefetched.slice(this.nextPrefetched), ...objectIds];
    this.nextPrefetched = 0;
    this.child.stdin.write(objectIds.map((id) => `${id}\n`).join(''));
  }

  async read(objectId: string): Promise<BatchedBlob> {
    if (!OBJECT_ID.test(objectId)) throw new GitError(GitErrorCode.INVALID_ARGUMENT, `Not an object id: ${JSON.stringify(objectId)}`);
    if (this.signal?.aborted) throw abortedError('git cat-file', this.signal);
    await this.finishCurrent();
    if (this.nextPrefetched < this.prefetched.length) {
      const expected = this.prefetched[this.nextPrefetched++];
      if (expected !== objectId) {
        throw new GitError(GitErrorCode.INVALID_ARGUMENT, `Read ${objectId} out of prefetch order (next is ${expected})`);
      }
    } else {
      this.child.stdin.write(`${objectId}\n`);
    }
    const header = await this.pipe.readLine();
    if (header === null) throw this.died();
    const [id, type, sizeText] = header.split(' ');
    if (type === 'missing' || id !== objectId)
      throw new GitError(GitErrorCode.GIT_FAILED, `Object ${objectId} is missing from the repository`);
    if (type !== 'blob') throw new GitError(GitErrorCode.GIT_FAILED, `Object ${objectId} is a ${type}, not a blob`);
    const size = Number(sizeText);
    if (!Number.isSafeInteger(size) || size < 0) throw new GitError(GitErrorCode.GIT_FAILED, `git cat-file sent a bad header: ${header}`);
    return { size, stream: this.body(size) };
  }

  private body(size: number): Readable {
    let remaining = size;
    let inFlight: Promise<void> = Promise.resolve();
    const pull = async (readable: Readable): Promise<void> => {
      if (remaining === 0) return void readable.push(null);
      const chunk = await this.pipe.read(Math.min(remaining, 64 * 1024));
      if (chunk === null) return void readable.destroy(this.died());
      remaining -= chunk.length;
      readable.push(chunk);
      if (remaining === 0) readable.push(null);
    };
    const body = new Readable({
      highWaterMark: 64 * 1024,
      read() {
        inFlight = pull(this).catch((error: Error) => void this.destroy(error));
      },
    });
    this.current = { body, remaining: () => remaining, idle: () => inFlight };
    return body;
  }

  /** Skips whatever the consumer left unread of the previous blob, plus its trailing newline. */
  private async finishCurrent(): Promise<void> {
    const current = this.current;
    this.current = null;
    if (!current) return;
    if (!current.body.readableEnded) current.body.destroy();
    await current.idle();
    for (let left = current.remaining(); left > 0;) {
      const chunk = await this.pipe.read(Math.min(left, 64 * 1024));
      if (chunk === null) throw this.died();
      left -= chunk.length;
    }
    const newline = await this.pipe.read(1);
    if (newline === null || newline[0] !== 0x0a) throw this.died();
  }

  private died(): GitError {
    // Killed on purpose: say so rather than blame git.
    if (this.signal?.aborted) return abortedError('git cat-file', this.signal);
    return new GitError(GitErrorCode.GIT_FAILED, `git cat-file stopped unexpectedly: ${this.stderr.trim() || 'no error output'}`, {
      detail: this.stderr,
    });
  }

  async close(): Promise<void> {
    this.unwatch();
    this.current?.body.destroy();
    this.current = null;
    this.child.stdin.end();
    // Stop reading first: output nobody will read (a blob left half-way) must not keep git alive.
    await this.pipe.close();
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = once(this.child, 'exit');
      this.child.kill('SIGTERM');
      await exited;
    }
  }
}

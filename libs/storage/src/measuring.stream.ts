import { createHash, Hash } from 'node:crypto';
import { Transform, TransformCallback } from 'node:stream';
import { StorageError, StorageErrorCode } from './storage.error';

export interface MeasuringStreamOptions {
  /** Fail the stream as soon as it is known not to carry exactly this many bytes. */
  expectedSize?: number;
  /** Compute a sha256 of the bytes passing through. */
  sha256?: boolean;
  /** Names the content in error messages, e.g. the object key. */
  label: string;
}

/**
 * Passes bytes through unchanged while counting (and optionally hashing) them.
 *
 * Why enforce the size: minio-js reads a stream of up to one part into memory and
 * uploads whatever it got, so a short stream would silently store a truncated object.
 */
export class MeasuringStream extends Transform {
  private bytesSeen = 0;
  private readonly hash: Hash | undefined;

  constructor(private readonly options: MeasuringStreamOptions) {
    super();
    this.hash = options.sha256 ? createHash('sha256') : undefined;
  }

  get bytes(): number {
    return this.bytesSeen;
  }

  /** Hex sha256 of everything that passed; only meaningful once the stream has ended. */
  sha256(): string {
    if (!this.hash) throw new Error('MeasuringStream was created without sha256');
    return this.hash.copy().digest('hex');
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytesSeen += chunk.length;
    const { expectedSize } = this.options;
    if (expectedSize !== undefined && this.bytesSeen > expectedSize) {
      callback(this.sizeError());
      return;
    }
    this.hash?.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    const { expectedSize } = this.options;
    callback(expectedSize !== undefined && this.bytesSeen !== expectedSize ? this.sizeError() : null);
  }

  private sizeError(): StorageError {
    return sizeMismatchError(this.options.label, this.options.expectedSize ?? 0, this.bytesSeen);
  }
}

export function sizeMismatchError(label: string, expectedSize: number, bytesSeen: number): StorageError {
  const seen = bytesSeen > expectedSize ? `more than ${expectedSize}` : `${bytesSeen}`;
  return new StorageError(StorageErrorCode.INVALID, `${label}: declared ${expectedSize} bytes but the stream carried ${seen}`);
}

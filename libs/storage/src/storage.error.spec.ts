import { hasS3Code, StorageError, StorageErrorCode, toStorageError } from './storage.error';

function s3Error(code: string, message = 'server said no'): Error {
  return Object.assign(new Error(message), { name: 'S3Error', code });
}

describe(toStorageError.name, () => {
  const sut = toStorageError;

  it.each([
    ['connection refused', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' })],
    ['connection reset', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
    ['our request timeout', Object.assign(new Error('no answer'), { code: 'ETIMEDOUT' })],
    ['happy-eyeballs AggregateError', new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED' })], 'connect failed')],
    ['5xx InternalError', s3Error('InternalError')],
    ['503 SlowDown', s3Error('SlowDown')],
    ['minio-js retry exhaustion', new Error('Request failed after 1 retries: Error: Retryable HTTP status: 502')],
  ])('maps %s to a transient UNAVAILABLE', (_label, error) => {
    const mapped = sut(error, 'put b/k');
    expect(mapped).toMatchObject({ code: StorageErrorCode.UNAVAILABLE, transient: true });
    expect(mapped.cause).toBe(error);
    expect(mapped.message).toMatch(/^put b\/k failed: /);
  });

  it.each(['NoSuchBucket', 'NoSuchKey', 'NotFound', 'NoSuchUpload'])('maps %s to NOT_FOUND', (code) => {
    expect(sut(s3Error(code), 'get')).toMatchObject({ code: StorageErrorCode.NOT_FOUND, transient: false });
  });

  it.each([
    ['S3 invalid name', s3Error('XMinioInvalidObjectName')],
    ['client-side bucket check', Object.assign(new Error('Invalid bucket name: A'), { name: 'InvalidBucketNameError' })],
    ['lone surrogate in a key', new URIError('URI malformed')],
  ])('maps %s to INVALID', (_label, error) => {
    expect(sut(error, 'put')).toMatchObject({ code: StorageErrorCode.INVALID, transient: false });
  });

  it('maps anything else to FAILED, keeping the S3 code in the message', () => {
    const mapped = sut(s3Error('AccessDenied', 'Access Denied.'), 'put b/k');
    expect(mapped).toMatchObject({ code: StorageErrorCode.FAILED, transient: false });
    expect(mapped.message).toBe('put b/k failed: AccessDenied: Access Denied.');
    expect(sut('a string', 'x')).toMatchObject({ code: StorageErrorCode.FAILED, message: 'x failed: a string' });
  });

  it('decodes the HTML entities MinIO puts in messages', () => {
    const mapped = sut(s3Error('XMinioInvalidResourceName', 'bad components such as &#34;..&#34;'), 'put');
    expect(mapped.message).toContain('"..\"');
  });

  it('passes a StorageError through unchanged', () => {
    const original = new StorageError(StorageErrorCode.INVALID, 'already mapped');
    expect(sut(original, 'x')).toBe(original);
  });
});

describe(hasS3Code.name, () => {
  it('matches the code of S3 errors only', () => {
    expect(hasS3Code(s3Error('BucketAlreadyOwnedByYou'), 'BucketAlreadyOwnedByYou')).toBe(true);
    expect(hasS3Code(s3Error('NoSuchKey'), 'BucketAlreadyOwnedByYou')).toBe(false);
    expect(hasS3Code(undefined, 'x')).toBe(false);
  });
});

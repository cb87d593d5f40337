import { BadRequestException, HttpException, PayloadTooLargeException } from '@nestjs/common';
import { DatabaseError, DatabaseErrorCode } from '@archiver/database';
import { GitError, GitErrorCode } from '@archiver/git';
import { QueueError, QueueErrorCode } from '@archiver/queue';
import { StorageError, StorageErrorCode } from '@archiver/storage';
import { ApiError } from './api.error';
import { toApiErrorResponse } from './api-error.mapper';

describe(toApiErrorResponse.name, () => {
  it.each<[GitErrorCode, number, string]>([
    [GitErrorCode.INVALID_URL, 400, 'INVALID_URL'],
    [GitErrorCode.BLOCKED_BY_POLICY, 400, 'BLOCKED_BY_POLICY'],
    [GitErrorCode.NOT_FOUND, 400, 'UNKNOWN_HOST'],
    [GitErrorCode.NETWORK, 503, 'NETWORK'],
    [GitErrorCode.INVALID_ARGUMENT, 500, 'INTERNAL'],
  ])('maps GitError %s to %d %s', (code, status, apiCode) => {
    const { status: actual, body } = toApiErrorResponse(new GitError(code, 'Invalid repository URL "x": because'));
    expect(actual).toBe(status);
    expect(body.error.code).toBe(apiCode);
  });

  it('passes the policy message through, since it tells the person what to fix', () => {
    const message = 'Refusing to fetch http://10.0.0.1/x: 10.0.0.1 is a private address.';
    expect(toApiErrorResponse(new GitError(GitErrorCode.BLOCKED_BY_POLICY, message)).body.error.message).toBe(message);
  });

  it('keeps the body of an ApiError', () => {
    expect(toApiErrorResponse(ApiError.notFound('No archive "x"'))).toEqual({
      status: 404,
      body: { error: { code: 'NOT_FOUND', message: 'No archive "x"' } },
    });
  });

  it("explains body-parser's failures", () => {
    const parse = new BadRequestException('Unexpected token', {
      cause: Object.assign(new SyntaxError('Unexpected token'), { type: 'entity.parse.failed' }),
    });
    expect(toApiErrorResponse(parse)).toEqual({
      status: 400,
      body: { error: { code: 'INVALID_REQUEST', message: expect.stringMatching(/not valid JSON.*\{"url"/) } },
    });
    // Valid JSON that is not an object or array: body-parser's strict mode refuses it as a syntax error.
    for (const [body, kind] of [
      ['null', 'null'],
      ['123', 'a number'],
      ['"text"', 'a string'],
      ['true', 'a boolean'],
    ]) {
      const scalar = new BadRequestException('Unexpected token', {
        cause: Object.assign(new SyntaxError('Unexpected token'), { type: 'entity.parse.failed', body }),
      });
      expect(toApiErrorResponse(scalar).body.error.message).toMatch(new RegExp(`^The request body must be a JSON object, not ${kind};`));
    }
    const broken = new BadRequestException('Unexpected token', {
      cause: Object.assign(new SyntaxError('Unexpected token'), { type: 'entity.parse.failed', body: '{"url": ' }),
    });
    expect(toApiErrorResponse(broken).body.error.message).toMatch(/^The request body is not valid JSON/);
    const large = new PayloadTooLargeException('too large', {
      cause: Object.assign(new Error('too large'), { type: 'entity.too.large', limit: 102400 }),
    });
    expect(toApiErrorResponse(large)).toEqual({
      status: 413,
      body: { error: { code: 'PAYLOAD_TOO_LARGE', message: expect.stringContaining('102400 bytes') } },
    });
    const charset = new HttpException('unsupported charset', 415, {
      cause: Object.assign(new Error('x'), { type: 'charset.unsupported' }),
    });
    expect(toApiErrorResponse(charset).body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    const deep = new BadRequestException('too deep', { cause: Object.assign(new Error('too deep'), { type: 'entity.too.deep' }) });
    expect(toApiErrorResponse(deep)).toEqual({
      status: 400,
      body: { error: { code: 'INVALID_REQUEST', message: expect.stringMatching(/nested more than 8 levels/) } },
    });
  });

  it.each([
    ['gzip', Object.assign(new Error('incorrect header check'), { code: 'Z_DATA_ERROR', status: 400 })],
    ['truncated gzip', Object.assign(new Error('unexpected end of file'), { code: 'Z_BUF_ERROR', status: 400 })],
    ['brotli', Object.assign(new Error('Decompression failed'), { code: 'ERR__ERROR_FORMAT_PADDING_2', status: 400 })],
  ])('explains a body that is not valid %s data as its Content-Encoding says', (_name, cause) => {
    expect(toApiErrorResponse(new HttpException(cause.message, 400, { cause }))).toEqual({
      status: 400,
      body: { error: { code: 'INVALID_REQUEST', message: expect.stringMatching(/not valid data for its Content-Encoding.*uncompressed/) } },
    });
  });

  it('explains a path with broken percent-encoding', () => {
    const cause = Object.assign(new URIError("Failed to decode param '%ZZ'"), { status: 400 });
    expect(toApiErrorResponse(new HttpException(cause.message, 400, { cause }))).toEqual({
      status: 400,
      body: { error: { code: 'INVALID_REQUEST', message: "The URL's path has broken percent-encoding ('%ZZ'); write a literal % as %25" } },
    });
  });

  it('leaves other causes of other statuses alone', () => {
    const cause = Object.assign(new Error('x'), { code: 'Z_DATA_ERROR' });
    expect(toApiErrorResponse(new HttpException('gone', 404, { cause })).body.error).toEqual({ code: 'NOT_FOUND', message: 'gone' });
  });

  it('maps the other libs without leaking their internals', () => {
    expect(toApiErrorResponse(new QueueError(QueueErrorCode.Unavailable, 'redis://:secret@host'))).toEqual({
      status: 503,
      body: { error: { code: 'QUEUE_UNAVAILABLE', message: 'The queue is unavailable; try again shortly' } },
    });
    const storage = toApiErrorResponse(new StorageError(StorageErrorCode.FAILED, 'stat http://127.0.0.1:19000/b/k failed: AccessDenied'));
    expect(storage.status).toBe(500);
    expect(storage.body.error.message).not.toContain('127.0.0.1');
    expect(toApiErrorResponse(new StorageError(StorageErrorCode.UNAVAILABLE, 'x')).status).toBe(503);
    expect(toApiErrorResponse(new DatabaseError(DatabaseErrorCode.Unavailable, 'The database is unavailable')).status).toBe(503);
    expect(toApiErrorResponse(new Error('boom'))).toEqual({
      status: 500,
      body: { error: { code: 'INTERNAL', message: expect.any(String) } },
    });
  });
});

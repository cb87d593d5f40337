import { ZodValidationPipe } from '../api/zod-validation.pipe';
import { ApiError } from '../api/api.error';
import { listArchivesQuerySchema, submitArchiveSchema, submitBatchSchema } from './archive.dto';

function failure(run: () => unknown): ApiError {
  try {
    run();
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error('expected an ApiError');
}

describe('archive request validation', () => {
  describe('POST /api/archives body', () => {
    const sut = new ZodValidationPipe(submitArchiveSchema);

    it('accepts {"url": string} and leaves URL checks to the policy', () => {
      expect(sut.transform({ url: 'ftp://x' })).toEqual({ url: 'ftp://x' });
    });

    it.each<[string, unknown, RegExp]>([
      ['a missing body', undefined, /JSON object like \{"url"/],
      ['an array', ['https://x'], /JSON object/],
      ['a missing url', {}, /^url: must be a string/],
      ['a number', { url: 42 }, /^url: must be a string/],
      ['an unknown field', { uri: 'https://x' }, /url: must be a string.*Unknown field "uri"/],
    ])('refuses %s with 400 INVALID_REQUEST and a sentence to act on', (_name, body, message) => {
      const error = failure(() => sut.transform(body));
      expect(error.getStatus()).toBe(400);
      expect(error.getResponse()).toEqual({ error: { code: 'INVALID_REQUEST', message: expect.stringMatching(message) } });
    });
  });

  describe('POST /api/archives/batch body', () => {
    const sut = new ZodValidationPipe(submitBatchSchema);

    it('takes 1..100 strings', () => {
      expect(sut.transform({ urls: ['a'] })).toEqual({ urls: ['a'] });
      expect(sut.transform({ urls: Array(100).fill('a') }).urls).toHaveLength(100);
    });

    it.each<[string, unknown, RegExp]>([
      ['no URLs', { urls: [] }, /at least one/],
      ['101 URLs', { urls: Array(101).fill('a') }, /at most 100/],
      ['a non-string', { urls: ['a', 1] }, /urls\.1: must be a string/],
      ['a string instead of a list', { urls: 'a' }, /must be an array/],
    ])('refuses %s', (_name, body, message) => {
      expect(failure(() => sut.transform(body)).message).toMatch(message);
    });
  });

  describe('GET /api/archives query', () => {
    const sut = new ZodValidationPipe(listArchivesQuerySchema);

    it('defaults to your own archives, the first page of 20, and coerces numbers', () => {
      expect(sut.transform({})).toEqual({ scope: 'mine', page: 1, pageSize: 20 });
      expect(sut.transform({ scope: 'all', status: 'failed', page: '3', pageSize: '100' })).toEqual({
        scope: 'all',
        status: 'failed',
        page: 3,
        pageSize: 100,
      });
    });

    it.each<[Record<string, unknown>, RegExp]>([
      [{ status: 'done' }, /status must be one of pending, queued, running, completed, failed/],
      [{ scope: 'everyone' }, /scope must be one of mine, all/],
      [{ scope: ['mine', 'all'] }, /scope must be one of mine, all/],
      [{ page: '0' }, /page must be at least 1/],
      [{ page: 'x' }, /page must be a whole number/],
      [{ page: '1.5' }, /page must be a whole number/],
      [{ pageSize: '101' }, /pageSize must be at most 100/],
      [{ pageSize: ['1', '2'] }, /pageSize must be a whole number/],
    ])('refuses %j', (query, message) => {
      expect(failure(() => sut.transform(query)).message).toMatch(message);
    });
  });
});

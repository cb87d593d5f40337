import { rejectionOf } from './rejection-of';

class CodedError extends Error {
  constructor(readonly code: string) {
    super(`failed with ${code}`);
  }
}

describe(rejectionOf.name, () => {
  it('returns the rejection, typed when a class is given', async () => {
    const error = await rejectionOf(Promise.reject(new CodedError('GONE')), CodedError);
    expect(error.code).toBe('GONE');
    expect(await rejectionOf(Promise.reject('a string'))).toBe('a string');
  });

  it('fails when the work resolves, showing the value', async () => {
    await expect(rejectionOf(Promise.resolve({ ok: true }), CodedError)).rejects.toThrow(
      'expected a rejection with a CodedError, but it resolved with {"ok":true}',
    );
  });

  it('fails when the work rejects with another kind of error, keeping it as the cause', async () => {
    const other = new TypeError('x is undefined');
    const failure = await rejectionOf(rejectionOf(Promise.reject(other), CodedError), Error);
    expect(failure.message).toBe('expected a CodedError, but it rejected with TypeError: x is undefined');
    expect(failure.cause).toBe(other);
  });
});

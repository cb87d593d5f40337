type ErrorClass<E> = abstract new (...args: never[]) => E;

/**
 * The error `work` rejects with, for tests that assert on its code and message. Fails when
 * `work` resolves, and — given `type` — when it rejects with anything else, so an assertion on
 * the error can never pass because no error (or the wrong kind) came.
 */
export async function rejectionOf<E = unknown>(work: Promise<unknown>, type?: ErrorClass<E>): Promise<E> {
  const outcome = await work.then(
    (value: unknown) => ({ rejected: false as const, value }),
    (error: unknown) => ({ rejected: true as const, error }),
  );
  if (!outcome.rejected) {
    throw new Error(`expected a rejection${type ? ` with a ${type.name}` : ''}, but it resolved with ${describe(outcome.value)}`);
  }
  if (type && !(outcome.error instanceof type)) {
    throw new Error(`expected a ${type.name}, but it rejected with ${describe(outcome.error)}`, { cause: outcome.error });
  }
  return outcome.error as E;
}

function describe(value: unknown): string {
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

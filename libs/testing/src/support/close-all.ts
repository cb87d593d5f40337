/**
 * Awaits every close, whatever fails: one failed close must not leave the other handles open
 * (an open Redis or Postgres connection keeps Jest from exiting). Throws the first failure.
 */
export async function closeAll(...closing: Array<Promise<unknown> | undefined>): Promise<void> {
  const results = await Promise.allSettled(closing);
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) throw failure.reason;
}

import DataLoader from 'dataloader';

export interface CoalescingOptions {
  /** Batches running at once; calls made while all are busy wait together for the next one. */
  inFlight: number;
  /** The most calls one batch carries. */
  maxBatchSize: number;
}

/**
 * Concurrent calls coalesced into batches (DataLoader, without its cache: every call is a
 * write of its own). A batch leaves as soon as one of `inFlight` slots is free, so an idle
 * process sends a batch of one at once, and a busy one sends one statement for everyone who
 * arrived while the slots were busy — the database commits once instead of once per caller.
 * `run` answers every key in order: a value, an Error for that caller alone, or a promise of
 * either, which settles that caller later without holding the batch's slot (e.g. a key retried
 * on its own after its batch failed).
 */
export function coalescedBatches<K, V>(
  run: (keys: readonly K[]) => Promise<(V | Error | PromiseLike<V>)[]>,
  { inFlight, maxBatchSize }: CoalescingOptions,
): (key: K) => Promise<V> {
  let busy = 0;
  const waiting: (() => void)[] = [];
  // A slot is taken when a batch is scheduled and handed on when its run ends; a batch that
  // waits keeps collecting callers until its turn (or until it is full).
  const release = (): void => {
    const next = waiting.shift();
    if (next) next();
    else busy--;
  };
  // DataLoader resolves each caller with its answer; a promise answer is adopted, so that
  // caller settles when it does.
  const loader = new DataLoader<K, V>(
    async (keys) => {
      try {
        return (await run(keys)) as (V | Error)[];
      } finally {
        release();
      }
    },
    {
      cache: false,
      maxBatchSize,
      batchScheduleFn: (dispatch) => {
        if (busy >= inFlight) return void waiting.push(dispatch);
        busy++;
        // The rest of this turn of the event loop (requests parsed from the same poll) joins.
        setImmediate(dispatch);
      },
    },
  );
  return (key) => loader.load(key);
}

import { coalescedBatches } from './coalesced-batches';

/** A batch function whose runs the test finishes by hand, recording what each run carried. */
function controlledRuns() {
  const runs: { keys: number[]; finish: (answer?: (key: number) => string | Error) => void }[] = [];
  let running = 0;
  let mostRunning = 0;
  const run = (keys: readonly number[]) =>
    new Promise<(string | Error)[]>((resolve, reject) => {
      running++;
      mostRunning = Math.max(mostRunning, running);
      runs.push({
        keys: [...keys],
        finish: (answer = (key) => `v${key}`) => {
          running--;
          try {
            resolve(keys.map(answer));
          } catch (error) {
            reject(error as Error);
          }
        },
      });
    });
  return { runs, run, mostRunning: () => mostRunning };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('coalescedBatches', () => {
  it('sends a lone call at once, as a batch of one', async () => {
    const { runs, run } = controlledRuns();
    const load = coalescedBatches(run, { inFlight: 2, maxBatchSize: 10 });
    const answer = load(1);
    await settle();
    expect(runs.map((r) => r.keys)).toEqual([[1]]);
    runs[0].finish();
    await expect(answer).resolves.toBe('v1');
  });

  it('carries the calls made while every slot is busy in one batch, and never runs more than its slots', async () => {
    const { runs, run, mostRunning } = controlledRuns();
    const load = coalescedBatches(run, { inFlight: 2, maxBatchSize: 100 });
    const answers: Promise<string>[] = [load(1)];
    await settle();
    answers.push(load(2));
    await settle();
    // Both slots busy: these wait together, across several turns of the event loop.
    for (let key = 3; key <= 30; key++) {
      answers.push(load(key));
      if (key % 5 === 0) await settle();
    }
    expect(runs.map((r) => r.keys)).toEqual([[1], [2]]);
    runs[0].finish();
    await settle();
    expect(runs[2].keys).toEqual(Array.from({ length: 28 }, (_, i) => i + 3));
    runs[1].finish();
    runs[2].finish();
    expect(await Promise.all(answers)).toEqual(Array.from({ length: 30 }, (_, i) => `v${i + 1}`));
    expect(mostRunning()).toBe(2);
  });

  it('splits a crowd into batches of at most maxBatchSize, each key answered once and in its own place', async () => {
    const { runs, run, mostRunning } = controlledRuns();
    const load = coalescedBatches(run, { inFlight: 1, maxBatchSize: 7 });
    const answers = Array.from({ length: 50 }, (_, key) => load(key));
    const sizes: number[] = [];
    // Bounded: 50 keys in batches of 7 need 8 runs.
    for (let turn = 0; turn < 20 && sizes.reduce((a, b) => a + b, 0) < 50; turn++) {
      await settle();
      for (const r of runs.splice(0)) {
        sizes.push(r.keys.length);
        r.finish();
      }
    }
    expect(await Promise.all(answers)).toEqual(Array.from({ length: 50 }, (_, key) => `v${key}`));
    expect(sizes).toEqual([7, 7, 7, 7, 7, 7, 7, 1]);
    expect(mostRunning()).toBe(1);
  });

  it('rejects only the caller whose key was answered with an Error, and a run that throws rejects its batch alone', async () => {
    const { runs, run } = controlledRuns();
    const load = coalescedBatches(run, { inFlight: 1, maxBatchSize: 10 });
    const first = [load(1), load(2), load(3)].map((p) =>
      p.then(
        (v) => v,
        (e: Error) => e.message,
      ),
    );
    await settle();
    runs[0].finish((key) => (key === 2 ? new Error('row 2 refused') : `v${key}`));
    expect(await Promise.all(first)).toEqual(['v1', 'row 2 refused', 'v3']);

    const second = [load(4), load(5)].map((p) =>
      p.then(
        (v) => v,
        (e: Error) => e.message,
      ),
    );
    await settle();
    runs[1].finish(() => {
      throw new Error('database down');
    });
    expect(await Promise.all(second)).toEqual(['database down', 'database down']);

    // The slot came back: the next call runs.
    const third = load(6);
    await settle();
    runs[2].finish();
    await expect(third).resolves.toBe('v6');
  });

  it('settles a caller answered with a promise when that promise does, without holding the slot', async () => {
    let settleLate!: (value: string) => void;
    const late = new Promise<string>((resolve) => (settleLate = resolve));
    const runs: number[][] = [];
    const load = coalescedBatches(
      async (keys: readonly number[]) => {
        runs.push([...keys]);
        return keys.map((key) => (key === 1 ? late : `v${key}`));
      },
      { inFlight: 1, maxBatchSize: 10 },
    );
    let lateDone = false;
    const first = [load(1), load(2)];
    void first[0].then(() => (lateDone = true));
    await expect(first[1]).resolves.toBe('v2');
    // The only slot is free again although key 1 is still unanswered.
    await expect(load(3)).resolves.toBe('v3');
    expect(lateDone).toBe(false);
    settleLate('late 1');
    await expect(first[0]).resolves.toBe('late 1');
    expect(runs).toEqual([[1, 2], [3]]);
  });
});

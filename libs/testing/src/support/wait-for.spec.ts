import { StopWaiting, waitFor } from './wait-for';

describe(waitFor.name, () => {
  it('returns the first value the probe gives, retrying undefined and errors', async () => {
    const answers = [undefined, new Error('not yet'), 'ready'];
    let calls = 0;
    const sut = waitFor(
      'the answer',
      async () => {
        const answer = answers[calls++];
        if (answer instanceof Error) throw answer;
        return answer;
      },
      2000,
      5,
    );
    await expect(sut).resolves.toBe('ready');
    expect(calls).toBe(3);
  });

  it('times out naming what it waited for and the last error', async () => {
    const sut = waitFor('the door to open', async () => Promise.reject(new Error('still locked')), 100, 10);
    await expect(sut).rejects.toThrow('timed out after 100 ms waiting for the door to open: Error: still locked');
  });

  it('probes once more at the deadline rather than giving up a poll early', async () => {
    const deadline = Date.now() + 120;
    const sut = waitFor('the deadline', async () => (Date.now() >= deadline ? 'reached' : undefined), 120, 1000);
    await expect(sut).resolves.toBe('reached');
  });

  it('stops at once with the reason of a StopWaiting', async () => {
    const reason = new Error('the process exited');
    const started = Date.now();
    await expect(waitFor('a dead process', async () => Promise.reject(new StopWaiting(reason)), 10_000)).rejects.toBe(reason);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

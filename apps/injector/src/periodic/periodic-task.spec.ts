import { Logger } from '@nestjs/common';
import { PeriodicTask } from './periodic-task';

describe(PeriodicTask.name, () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());
  const logger = { log: jest.fn(), warn: jest.fn() } as unknown as Logger;

  it('never runs two passes at once, and keeps going after a failed pass', async () => {
    let release: () => void = () => undefined;
    const pass = jest
      .fn<Promise<Record<string, number>>, []>()
      .mockImplementationOnce(() => new Promise((resolve) => (release = () => resolve({ count: 1 }))))
      .mockRejectedValueOnce(new Error('database down'))
      .mockResolvedValue({ count: 0 });
    const sut = new PeriodicTask(logger, 'did things', 100, pass);
    sut.start();
    await jest.advanceTimersByTimeAsync(350); // three ticks while the first pass still runs
    expect(pass).toHaveBeenCalledTimes(1);
    release();
    await jest.advanceTimersByTimeAsync(100);
    expect(logger.log).toHaveBeenCalledWith({ msg: 'did things', count: 1 });
    await jest.advanceTimersByTimeAsync(100);
    expect(logger.warn).toHaveBeenCalledWith({ msg: 'did things: pass failed; will retry', error: 'database down' });
    await jest.advanceTimersByTimeAsync(100);
    expect(pass).toHaveBeenCalledTimes(4);
    sut.stop();
    await jest.advanceTimersByTimeAsync(1000);
    expect(pass).toHaveBeenCalledTimes(4);
  });
});

import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { CommandLineSampler } from './command-line-sampler';

const run = promisify(execFile);

describe(CommandLineSampler.name, () => {
  it('sees the arguments of a process that runs while the work runs, and passes the outcome on', async () => {
    const sut = new CommandLineSampler();
    const marker = `marker-${randomUUID()}`;
    // sleep 1: long enough for several passes over /proc, whatever the machine's load.
    const { stdout } = await sut.during(run('sh', ['-c', 'sleep 1; echo done', marker]));
    expect(stdout).toBe('done\n');
    expect([...sut.seen].some((line) => line.includes(marker) && line.includes('sleep 1'))).toBe(true);
  });

  it('sees nothing of processes that start after the work settled, and passes a failure on', async () => {
    const sut = new CommandLineSampler();
    await expect(sut.during(Promise.reject(new Error('visit failed')))).rejects.toThrow('visit failed');
    const marker = `after-${randomUUID()}`;
    await run('sh', ['-c', 'sleep 0.2', marker]);
    expect([...sut.seen].some((line) => line.includes(marker))).toBe(false);
  });
});

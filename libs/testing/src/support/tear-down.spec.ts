import { mkdtemp, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { AppProcess } from '../stack/app-process';
import { rejectionOf } from './rejection-of';
import { tearDown } from './tear-down';

/** An app that only records when it was stopped, and fails its stop when told to. */
const appThat = (events: string[], name: string, fails = false) =>
  ({
    name,
    stop: async () => {
      events.push(`stop ${name}`);
      if (fails) throw new Error(`${name} would not stop`);
    },
  }) as unknown as AppProcess;

describe(tearDown.name, () => {
  it('stops the apps, then cleans up, then closes everything and removes the directories', async () => {
    const events: string[] = [];
    const dir = await mkdtemp(path.join(os.tmpdir(), 'tear-down-'));
    await tearDown({
      apps: [appThat(events, 'frontend'), undefined, appThat(events, 'worker')],
      cleanUp: async () => events.push('clean up'),
      close: [() => events.push('close store'), async () => events.push('close prisma')],
      dirs: [dir, undefined],
    });
    expect(events).toEqual(['stop frontend', 'stop worker', 'clean up', 'close store', 'close prisma']);
    await expect(stat(dir)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('closes every handle and removes the directories whatever failed before, and throws the first failure', async () => {
    const events: string[] = [];
    const dir = await mkdtemp(path.join(os.tmpdir(), 'tear-down-'));
    const failure = await rejectionOf(
      tearDown({
        apps: [appThat(events, 'frontend', true)],
        cleanUp: async () => events.push('clean up'),
        close: [
          () => {
            throw new Error('store already closed');
          },
          async () => events.push('close prisma'),
        ],
        dirs: [dir],
      }),
      Error,
    );
    expect(failure.message).toBe('frontend would not stop');
    // A failed stop skips the clean-up (the apps may still write rows), never the closing.
    expect(events).toEqual(['stop frontend', 'close prisma']);
    await expect(stat(dir)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('reports a failed close once the apps stopped cleanly', async () => {
    const failure = await rejectionOf(tearDown({ close: [() => Promise.reject(new Error('redis gone'))] }), Error);
    expect(failure.message).toBe('redis gone');
  });
});

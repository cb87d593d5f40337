import { Logger } from '@nestjs/common';
import type { AppConfig } from '@archiver/config';
import { GitError, GitErrorCode } from '@archiver/git';
import { MetricsRegistry } from '@archiver/metrics';
import { RetryLaterError } from '@archiver/queue';
import { HostPoliteness } from './host-politeness';
import type { HostSlotsRepository, SlotAnswer } from './host-slots.repository';
import { PolitenessMetrics } from './politeness-metrics';

describe(HostPoliteness.name, () => {
  const config = {
    politeness: { maxPerHost: 2, slotLeaseMs: 30_000, backoffMinMs: 30_000, backoffMaxMs: 900_000 },
  } as AppConfig;
  let slots: { tryAcquire: jest.Mock; renew: jest.Mock; release: jest.Mock; backOff: jest.Mock };
  let registry: MetricsRegistry;
  let sut: HostPoliteness;
  const answer = (a: SlotAnswer) => slots.tryAcquire.mockResolvedValueOnce(a);
  const scrape = async () => (await registry.scrape()).body;

  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(['log', 'warn', 'error']));

  beforeEach(() => {
    slots = {
      tryAcquire: jest.fn(async (): Promise<SlotAnswer> => ({ acquired: true })),
      renew: jest.fn(async () => true),
      release: jest.fn(async () => undefined),
      backOff: jest.fn(async (_host: string, asked: number | null) => asked ?? 30_000),
    };
    registry = new MetricsRegistry('worker');
    sut = new HostPoliteness(config, slots as unknown as HostSlotsRepository, new PolitenessMetrics(registry));
  });

  it('takes a slot keyed by the URL’s host, with the configured limit and lease, naming this process in its token', async () => {
    const slot = await sut.enter('https://Forge.example/owner/repo.git');
    expect(slots.tryAcquire).toHaveBeenCalledWith('forge.example', expect.stringContaining(`:${process.pid}:`), 2, 30_000);
    expect(await scrape()).toContain('archiver_host_slots_held{app="worker"} 1');
    await slot!.release();
    await slot!.release();
    expect(slots.release).toHaveBeenCalledTimes(1);
    expect(await scrape()).toContain('archiver_host_slots_held{app="worker"} 0');
  });

  it('postpones a visit of a full host by a short jittered delay, and of a backing-off host until its end', async () => {
    const delays: number[] = [];
    for (let i = 0; i < 20; i++) {
      answer({ acquired: false, reason: 'busy', waitMs: 0 });
      const error = await sut.enter('https://forge.example/r').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RetryLaterError);
      delays.push((error as RetryLaterError).delayMs);
    }
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(1_000);
    expect(Math.max(...delays)).toBeLessThan(3_000);
    expect(new Set(delays).size).toBeGreaterThan(1);

    answer({ acquired: false, reason: 'backoff', waitMs: 12_000 });
    const error = (await sut.enter('https://forge.example/r').catch((e: unknown) => e)) as RetryLaterError;
    expect(error.delayMs).toBeGreaterThanOrEqual(12_000);
    expect(error.delayMs).toBeLessThan(13_000);
    expect(error.message).toMatch(/forge\.example asked to slow down/);
    expect(await scrape()).toMatch(/archiver_host_slot_waits_total\{reason="busy",app="worker"\} 20/);
    expect(await scrape()).toMatch(/archiver_host_slot_waits_total\{reason="backoff",app="worker"\} 1/);
  });

  it('has no slot to take for a URL without a host (the URL policy refuses it later)', async () => {
    expect(await sut.enter('not a url')).toBeNull();
    expect(await sut.enter('file:///etc/passwd')).toBeNull();
    expect(slots.tryAcquire).not.toHaveBeenCalled();
  });

  it.each([
    ['3', 3_000, 'retry_after'],
    ['Fri, 31 Dec 2100 23:59:59 GMT', 900_000, 'retry_after'],
    ['garbage', null, 'default'],
    [undefined, null, 'default'],
  ])('backs the host off for Retry-After %j (asked: %j)', async (retryAfter, asked, source) => {
    const refusal = new GitError(GitErrorCode.RATE_LIMITED, 'HTTP 429', { retryAfter });
    const later = await sut.backOff('git@forge.example:o/r.git', refusal);
    expect(slots.backOff).toHaveBeenCalledWith('forge.example', asked, 30_000, 900_000);
    expect(later).toBeInstanceOf(RetryLaterError);
    expect(later.delayMs).toBe(asked ?? 30_000);
    expect(await scrape()).toContain(`archiver_host_backoffs_total{source="${source}",app="worker"} 1`);
  });

  it('runs work in a slot, gives it back in every outcome, and turns a rate limit into a postponement', async () => {
    await expect(sut.withHostSlot('https://forge.example/r', async () => 'listed')).resolves.toBe('listed');
    await expect(
      sut.withHostSlot('https://forge.example/r', () => Promise.reject(new GitError(GitErrorCode.NOT_FOUND, 'gone'))),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(
      sut.withHostSlot('https://forge.example/r', () =>
        Promise.reject(new GitError(GitErrorCode.RATE_LIMITED, '429', { retryAfter: '5' })),
      ),
    ).rejects.toMatchObject({ name: 'RetryLaterError', delayMs: 5_000 });
    expect(slots.release).toHaveBeenCalledTimes(3);
  });
});

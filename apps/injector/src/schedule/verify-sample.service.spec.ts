import { Logger } from '@nestjs/common';
import type { AppConfig } from '@archiver/config';
import type { VerificationRepository } from '@archiver/database';
import { QueueName, QueueRepository } from '@archiver/queue';
import { VerifySampleService } from './verify-sample.service';

describe(VerifySampleService.name, () => {
  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(['log', 'warn', 'error']));
  let verifications: { pickSample: jest.Mock };
  let queues: { ensureJob: jest.Mock };
  const make = (sampleSize: number) =>
    new VerifySampleService(
      { verify: { tickMs: 1000, sampleSize } } as AppConfig,
      verifications as unknown as VerificationRepository,
      queues as unknown as QueueRepository,
    );

  beforeEach(() => {
    verifications = { pickSample: jest.fn(async () => ['a', 'b', 'c']) };
    queues = { ensureJob: jest.fn(async (_queue, { archiveId }: { archiveId: string }) => archiveId !== 'b') };
  });

  it('queues a drill of each sampled snapshot, counting only those not already waiting', async () => {
    const sut = make(3);
    await expect(sut.sample()).resolves.toBe(2);
    expect(verifications.pickSample).toHaveBeenCalledWith(3);
    expect(queues.ensureJob.mock.calls).toEqual(['a', 'b', 'c'].map((archiveId) => [QueueName.Verify, { archiveId }]));
  });

  it.each([
    [0, false],
    [5, true],
  ])('with a sample size of %i, runs on schedule: %s', (sampleSize, runs) => {
    const sut = make(sampleSize);
    const start = jest.spyOn(global, 'setInterval');
    try {
      sut.onApplicationBootstrap();
      expect(start).toHaveBeenCalledTimes(runs ? 1 : 0);
    } finally {
      sut.onApplicationShutdown();
      start.mockRestore();
    }
  });
});

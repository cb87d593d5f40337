import { Logger } from '@nestjs/common';
import type { AppConfig } from '@archiver/config';
import type { ArchiveRecord, ArchiveRepository } from '@archiver/database';
import { QueueName, QueueRepository } from '@archiver/queue';
import { SCHEDULER_SUBJECT, ScheduleService } from './schedule.service';

describe(ScheduleService.name, () => {
  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(['log', 'warn', 'error']));
  const config = { schedule: { tickMs: 1000 } } as AppConfig;
  const visits = (n: number, from = 0) => Array.from({ length: n }, (_, i) => ({ id: `visit-${from + i}` }) as ArchiveRecord);
  let archives: { createScheduledVisits: jest.Mock };
  let queues: { enqueue: jest.Mock };
  let sut: ScheduleService;

  beforeEach(() => {
    archives = { createScheduledVisits: jest.fn() };
    queues = { enqueue: jest.fn(async () => undefined) };
    sut = new ScheduleService(config, archives as unknown as ArchiveRepository, queues as unknown as QueueRepository);
  });

  it.each([
    ['nothing due', [[]], 0],
    ['one short batch', [visits(3)], 3],
    ['full batches until a short one', [visits(100), visits(100, 100), visits(7, 200)], 207],
    ['full batches ending exactly on an empty one', [visits(100), []], 100],
  ])('claims and queues every due visit: %s', async (_, batches, expected) => {
    for (const batch of batches) archives.createScheduledVisits.mockResolvedValueOnce(batch);
    await expect(sut.schedule()).resolves.toBe(expected);
    expect(archives.createScheduledVisits).toHaveBeenCalledTimes(batches.length);
    expect(archives.createScheduledVisits).toHaveBeenCalledWith(100, SCHEDULER_SUBJECT);
    expect(queues.enqueue.mock.calls).toEqual(batches.flat().map((v) => [QueueName.Pending, { archiveId: v.id }]));
  });

  it('bounds one pass when repositories keep coming due', async () => {
    archives.createScheduledVisits.mockImplementation(async () => visits(100));
    await expect(sut.schedule()).resolves.toBe(5000);
    expect(archives.createScheduledVisits).toHaveBeenCalledTimes(50);
  });

  it('queues the rest when one visit cannot be queued (the reconciler queues that one later)', async () => {
    archives.createScheduledVisits.mockResolvedValueOnce(visits(3));
    queues.enqueue.mockRejectedValueOnce(new Error('redis down'));
    await expect(sut.schedule()).resolves.toBe(3);
    expect(queues.enqueue).toHaveBeenCalledTimes(3);
  });

  it('lets a database failure end the pass, to be retried at the next tick', async () => {
    archives.createScheduledVisits.mockRejectedValue(new Error('database down'));
    await expect(sut.schedule()).rejects.toThrow('database down');
    expect(queues.enqueue).not.toHaveBeenCalled();
  });
});

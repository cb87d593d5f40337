import type { Queue } from 'bullmq';
import type { AppConfig } from '@archiver/config';
import { QueueError, QueueErrorCode } from './queue.error';
import { QueueRepository } from './queue.repository';
import { QueueName } from './queue.types';

/** Queues whose addBulk the test answers; everything else a QueueRepository needs of them. */
function repositoryWith(addBulk: jest.Mock) {
  const queue = { on: jest.fn(), addBulk } as unknown as Queue;
  const config = { webhooks: { maxAttempts: 5, backoffMs: 1000 } } as unknown as AppConfig;
  return new QueueRepository(queue, queue, queue, queue, queue, queue, queue, queue, config);
}

describe('QueueRepository.enqueue', () => {
  it('adds the jobs of concurrent callers together, each under its own id', async () => {
    const addBulk = jest.fn().mockResolvedValue([]);
    const queues = repositoryWith(addBulk);
    await Promise.all(['a', 'b', 'c'].map((archiveId) => queues.enqueue(QueueName.Pending, { archiveId })));
    const added = addBulk.mock.calls.flatMap(([jobs]) => jobs as { name: string; data: unknown; opts: { jobId: string } }[]);
    expect(added.map((job) => [job.name, job.data, job.opts.jobId])).toEqual([
      ['pending', { archiveId: 'a' }, 'a'],
      ['pending', { archiveId: 'b' }, 'b'],
      ['pending', { archiveId: 'c' }, 'c'],
    ]);
    expect(addBulk.mock.calls.length).toBeLessThan(3);
  });

  it('fails every caller of a failed addBulk with a QueueError that names the queue, and recovers', async () => {
    const addBulk = jest.fn().mockRejectedValueOnce(new Error('Connection is closed.')).mockResolvedValue([]);
    const queues = repositoryWith(addBulk);
    const outcomes = await Promise.allSettled(['a', 'b'].map((archiveId) => queues.enqueue(QueueName.Pending, { archiveId })));
    for (const outcome of outcomes) {
      const reason = (outcome as PromiseRejectedResult).reason as QueueError;
      expect(reason).toBeInstanceOf(QueueError);
      expect(reason.code).toBe(QueueErrorCode.Unavailable);
      expect(reason.message).toBe('Could not queue the job on "pending": Connection is closed.');
    }
    await expect(queues.enqueue(QueueName.Pending, { archiveId: 'c' })).resolves.toBeUndefined();
  });
});

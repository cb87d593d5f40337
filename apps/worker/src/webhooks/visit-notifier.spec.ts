import type { ArchiveRecord, RefChangeRepository, TrackedRepositoryRecord, WebhookRepository } from '@archiver/database';
import { QueueName, type QueueRepository } from '@archiver/queue';
import { VisitNotifier } from './visit-notifier';

describe(VisitNotifier.name, () => {
  const archive = {
    id: 'a-1',
    repositoryId: 'r-1',
    url: 'https://git.example.org/o/r.git',
    finishedAt: new Date('2026-12-07T10:00:00Z'),
    commit: null,
  } as ArchiveRecord;
  const repository = { id: 'r-1', url: 'https://git.example.org/o/r.git', state: 'active', stateReason: null } as TrackedRepositoryRecord;
  let webhooks: { subscribers: jest.Mock; createDeliveries: jest.Mock; previousSettledVisit: jest.Mock };
  let queues: { enqueue: jest.Mock };
  let sut: VisitNotifier;

  beforeEach(() => {
    webhooks = {
      subscribers: jest.fn(async () => [{ id: 'e-1' }, { id: 'e-2' }]),
      createDeliveries: jest.fn(async (rows: unknown[]) => rows.map((_row, i) => `d-${i + 1}`)),
      previousSettledVisit: jest.fn(async () => ({ status: 'completed', errorCode: null })),
    };
    queues = { enqueue: jest.fn(async () => undefined) };
    const refChanges = { findChanges: jest.fn(async () => []) };
    sut = new VisitNotifier(
      webhooks as unknown as WebhookRepository,
      refChanges as unknown as RefChangeRepository,
      queues as unknown as QueueRepository,
    );
  });

  it('writes one delivery per subscribed endpoint with the same body, then queues a job for each', async () => {
    await sut.visitSettled(archive, { kind: 'failed', code: 'NOT_FOUND', message: 'gone' }, repository);
    expect(webhooks.subscribers).toHaveBeenCalledWith('r-1', 'visit.failed');
    const rows = webhooks.createDeliveries.mock.calls[0][0] as { endpointId: string; body: string; event: string }[];
    expect(rows.map((r) => r.endpointId)).toEqual(['e-1', 'e-2']);
    expect(rows[0]!.body).toBe(rows[1]!.body);
    expect(JSON.parse(rows[0]!.body)).toMatchObject({
      event: 'visit.failed',
      repository: { id: 'r-1', url: repository.url },
      archive: { id: 'a-1', status: 'failed', errorCode: 'NOT_FOUND' },
      details: { code: 'NOT_FOUND', message: 'gone' },
    });
    expect(queues.enqueue.mock.calls).toEqual([
      [QueueName.WebhookDelivery, { deliveryId: 'd-1' }],
      [QueueName.WebhookDelivery, { deliveryId: 'd-2' }],
    ]);
  });

  it('writes nothing when no endpoint subscribes, and nothing for a success without events', async () => {
    webhooks.subscribers.mockResolvedValue([]);
    await sut.visitSettled(archive, { kind: 'failed', code: 'NETWORK', message: 'reset' }, repository);
    await sut.visitSettled(archive, { kind: 'completed', outcome: 'unchanged' }, repository);
    expect(webhooks.createDeliveries).not.toHaveBeenCalled();
    expect(queues.enqueue).not.toHaveBeenCalled();
  });

  it('never throws: the visit is settled already, a notification failure is only logged', async () => {
    webhooks.createDeliveries.mockRejectedValue(new Error('database down'));
    await expect(sut.visitSettled(archive, { kind: 'failed', code: 'NOT_FOUND', message: 'gone' }, null)).resolves.toBeUndefined();
    queues.enqueue.mockRejectedValue(new Error('redis down'));
    webhooks.createDeliveries.mockResolvedValue(['d-1']);
    await expect(sut.visitSettled(archive, { kind: 'failed', code: 'NOT_FOUND', message: 'gone' }, null)).resolves.toBeUndefined();
  });
});

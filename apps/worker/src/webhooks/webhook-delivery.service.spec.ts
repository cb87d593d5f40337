import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import type { AppConfig } from '@archiver/config';
import { CredentialCipher } from '@archiver/credentials';
import type { DeliveryToSend, WebhookRepository } from '@archiver/database';
import { UrlPolicy } from '@archiver/git';
import { PermanentJobError } from '@archiver/queue';
import { hmacHex } from '@archiver/webhooks';
import { DeliveryAttemptFailed, WebhookDeliveryService } from './webhook-delivery.service';

describe(WebhookDeliveryService.name, () => {
  const cipher = new CredentialCipher([{ id: 'k1', key: randomBytes(32) }]);
  const config = { webhooks: { maxAttempts: 3, backoffMs: 10, timeoutMs: 2_000 } } as AppConfig;
  let server: http.Server;
  let port: number;
  let status = 204;
  const received: { headers: http.IncomingHttpHeaders; body: Buffer }[] = [];
  let row: DeliveryToSend;
  let recorded: { status: string; attempts: number; lastStatusCode: number | null; lastError: string | null }[];
  let sut: WebhookDeliveryService;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks) });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  const make = (allowedHosts: string[]) => {
    const webhooks = {
      findDeliveryToSend: jest.fn(async () => row),
      recordAttempt: jest.fn(async (_id: string, next: (typeof recorded)[number]) => {
        recorded.push(next);
        row = { ...row, delivery: { ...row.delivery, ...next } as DeliveryToSend['delivery'] };
        return true;
      }),
    };
    return new WebhookDeliveryService(config, webhooks as unknown as WebhookRepository, cipher, new UrlPolicy({ allowedHosts }));
  };

  beforeEach(() => {
    status = 204;
    received.length = 0;
    recorded = [];
    row = {
      delivery: {
        id: 'd-1',
        endpointId: 'e-1',
        event: 'visit.failed',
        repositoryId: null,
        archiveId: null,
        body: '{"id":"ev-1","event":"visit.failed"}',
        status: 'pending',
        attempts: 0,
        lastStatusCode: null,
        lastError: null,
        createdAt: new Date(),
        lastAttemptAt: null,
        finishedAt: null,
      },
      endpoint: {
        id: 'e-1',
        url: `http://127.0.0.1:${port}/hook`,
        secretCiphertext: cipher.encrypt({ kind: 'hmac', secret: 'the-secret-0123456789' }, 'e-1'),
        active: true,
      },
    };
    sut = make(['127.0.0.0/8']);
  });

  it('sends the stored bytes signed with the decrypted secret and records delivered', async () => {
    await sut.deliver('d-1', { lastAttempt: false });
    expect(received[0]!.body.toString()).toBe(row.delivery.body);
    expect(received[0]!.headers['x-archiver-signature-256']).toBe(`sha256=${hmacHex('the-secret-0123456789', row.delivery.body)}`);
    expect(received[0]!.headers['x-archiver-delivery']).toBe('d-1');
    expect(recorded).toEqual([expect.objectContaining({ status: 'delivered', attempts: 1, lastStatusCode: 204 })]);
  });

  it('a failing receiver: retried (the job throws) until the last attempt, then failed — never delivered', async () => {
    status = 500;
    await expect(sut.deliver('d-1', { lastAttempt: false })).rejects.toBeInstanceOf(DeliveryAttemptFailed);
    await expect(sut.deliver('d-1', { lastAttempt: false })).rejects.toBeInstanceOf(DeliveryAttemptFailed);
    await expect(sut.deliver('d-1', { lastAttempt: true })).rejects.toBeInstanceOf(PermanentJobError);
    expect(recorded.map((r) => [r.status, r.attempts, r.lastStatusCode])).toEqual([
      ['pending', 1, 500],
      ['pending', 2, 500],
      ['failed', 3, 500],
    ]);
    // A late duplicate job changes nothing and sends nothing.
    await sut.deliver('d-1', { lastAttempt: false });
    expect(received).toHaveLength(3);
  });

  it('a delivery queued again after its job was lost keeps its total within maxAttempts', async () => {
    status = 500;
    // Two attempts were made by a job that is gone; the reconciler's new job starts at attempt 1.
    row = { ...row, delivery: { ...row.delivery, attempts: 2 } };
    await expect(sut.deliver('d-1', { lastAttempt: false })).rejects.toBeInstanceOf(PermanentJobError);
    expect(recorded).toEqual([expect.objectContaining({ status: 'failed', attempts: 3, lastStatusCode: 500 })]);
    expect(received).toHaveLength(1);
  });

  it.each([
    ['a target the policy refuses', () => make([]), /BLOCKED_BY_POLICY/],
    [
      'a deactivated endpoint',
      () => ((row = { ...row, endpoint: { ...row.endpoint, active: false } }), make(['127.0.0.0/8'])),
      /deactivated/,
    ],
    [
      'an unreadable secret',
      () => ((row = { ...row, endpoint: { ...row.endpoint, secretCiphertext: 'garbage' } }), make(['127.0.0.0/8'])),
      /CREDENTIAL_MALFORMED/,
    ],
  ])('%s fails at once without sending', async (_case, setup, reason) => {
    const service = setup();
    await expect(service.deliver('d-1', { lastAttempt: false })).rejects.toBeInstanceOf(PermanentJobError);
    expect(received).toHaveLength(0);
    expect(recorded).toEqual([expect.objectContaining({ status: 'failed', attempts: 1, lastError: expect.stringMatching(reason) })]);
    expect(recorded[0]!.lastError).not.toContain('the-secret');
  });
});

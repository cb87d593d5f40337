import { HttpStatus } from '@nestjs/common';
import { Readable } from 'node:stream';
import type { AuthUser } from '@archiver/auth';
import type { ArchiveRecord } from '@archiver/database';
import { QueueName, type QueueRepository } from '@archiver/queue';
import { type ObjectStoreRepository, StorageError, StorageErrorCode } from '@archiver/storage';
import { archiveRecord, rejectionOf } from '@archiver/testing';
import { ApiError } from '../api/api.error';
import type { ArchiveRequestsService } from './archive-requests.service';
import { BundlePreparingError, BundleService } from './bundle.service';

jest.mock('node:timers/promises', () => ({ setTimeout: async () => undefined }));

const demo: AuthUser = { subject: 'sub-demo', username: 'demo', roles: ['archiver-user'], isAdmin: false };
const BUCKET = 'repo-bucket-1a2b';
const FIRST = 'snapshots/20250101T000000Z-11111111/';
const SECOND = 'snapshots/20250102T000000Z-22222222/';
const link = (archiveId: string, prefix: string, kind: 'full' | 'incremental') => ({
  archiveId,
  kind,
  key: `${prefix}${kind === 'full' ? 'repo.bundle' : 'increment.bundle'}`,
  size: 10,
  sha256: 'x',
});

describe(BundleService.name, () => {
  let objects: Map<string, Buffer>;
  let archive: ArchiveRecord;
  let jobs: Map<string, string>;
  let sut: BundleService;
  let store: { getObject: jest.Mock; statObject: jest.Mock; presignedGet: jest.Mock; listObjects: jest.Mock };
  let queues: { ensureJob: jest.Mock; jobState: jest.Mock; failedReason: jest.Mock };

  const manifest = (prefix: string, body: object) => objects.set(`${prefix}manifest.json`, Buffer.from(JSON.stringify(body)));

  beforeEach(() => {
    objects = new Map();
    jobs = new Map();
    archive = archiveRecord({ id: 'second', status: 'completed', bucket: BUCKET, prefix: SECOND, normalizedUrl: 'https://h/o/My.Repo' });
    store = {
      getObject: jest.fn(async (_b: string, key: string) => {
        const body = objects.get(key);
        if (!body) throw new StorageError(StorageErrorCode.NOT_FOUND, `no ${key}`);
        return Readable.from([body]);
      }),
      statObject: jest.fn(async (_b: string, key: string) => {
        if (!objects.has(key)) throw new StorageError(StorageErrorCode.NOT_FOUND, `no ${key}`);
        return { size: 1 };
      }),
      presignedGet: jest.fn(async (_b: string, key: string) => `http://minio.test/${key}?sig`),
      listObjects: jest.fn(async function* (_b: string, prefix: string) {
        for (const [name, body] of [...objects].sort()) if (name.startsWith(prefix)) yield { name, size: body.length };
      }),
    };
    queues = {
      ensureJob: jest.fn(async (_q: QueueName, { archiveId }: { archiveId: string }) => void jobs.set(archiveId, 'waiting')),
      jobState: jest.fn(async (_q: QueueName, id: string) => jobs.get(id) ?? 'unknown'),
      failedReason: jest.fn(async () => 'bundle snapshots/x/increment.bundle is corrupted'),
    };
    const archives = { findVisible: jest.fn(async () => archive) };
    sut = new BundleService(
      archives as unknown as ArchiveRequestsService,
      store as unknown as ObjectStoreRepository,
      queues as unknown as QueueRepository,
    );
    manifest(FIRST, { archiveId: 'first', bundle: link('first', FIRST, 'full'), bundleChain: [link('first', FIRST, 'full')] });
    objects.set(`${FIRST}repo.bundle`, Buffer.from('full'));
  });

  it('serves a snapshot stored as one full bundle as it is, with no job', async () => {
    archive = { ...archive, id: 'first', prefix: FIRST };
    await expect(sut.download('first', demo)).resolves.toEqual({
      url: `http://minio.test/${FIRST}repo.bundle?sig`,
      expiresInSeconds: 300,
      cloneCommand: 'git clone repo.bundle My.Repo',
    });
    expect(queues.ensureJob).not.toHaveBeenCalled();
  });

  it('serves a manifest from before increments (version 2, one full bundle) as it is', async () => {
    archive = { ...archive, id: 'first', prefix: FIRST };
    manifest(FIRST, { archiveId: 'first', bundle: link('first', FIRST, 'full') });
    await expect(sut.download('first', demo)).resolves.toMatchObject({ url: expect.stringContaining(`${FIRST}repo.bundle`) });
  });

  it('asks a worker to consolidate a snapshot stored as increments, and serves the result once it is there', async () => {
    manifest(SECOND, { archiveId: 'second', bundleChain: [link('first', FIRST, 'full'), link('second', SECOND, 'incremental')] });
    queues.jobState.mockImplementation(async (_q: QueueName, id: string) => {
      // The worker finishes while the request waits.
      objects.set(`${SECOND}consolidated.bundle`, Buffer.from('one'));
      return jobs.get(id) ?? 'unknown';
    });
    const got = sut.download('second', demo);
    await expect(got).resolves.toMatchObject({ url: `http://minio.test/${SECOND}consolidated.bundle?sig` });
    expect(queues.ensureJob).toHaveBeenCalledWith(QueueName.Bundle, { archiveId: 'second' });
  });

  it('answers BUNDLE_PREPARING with a retry hint while the bundle is built, and BUNDLE_FAILED with the reason when building failed', async () => {
    manifest(SECOND, { archiveId: 'second', bundleChain: [link('first', FIRST, 'full'), link('second', SECOND, 'incremental')] });
    const preparing = await rejectionOf(sut.download('second', demo), BundlePreparingError);
    expect([preparing.getStatus(), preparing.code, preparing.retryAfterSeconds]).toEqual([HttpStatus.CONFLICT, 'BUNDLE_PREPARING', 5]);
    expect(preparing.message).toContain('/api/archives/second/restore');
    jobs.set('second', 'failed');
    queues.ensureJob.mockResolvedValue(false);
    const failed = await rejectionOf(sut.download('second', demo), ApiError);
    expect([failed.code, failed.message]).toEqual(['BUNDLE_FAILED', expect.stringContaining('corrupted')]);
    await expect(sut.status('second', demo, false)).resolves.toMatchObject({ status: 'failed' });
  });

  it('serves an unchanged visit the bundle of the snapshot holding its content', async () => {
    manifest(SECOND, { archiveId: 'second', contentFrom: { archiveId: 'first', prefix: FIRST } });
    await expect(sut.status('second', demo, true)).resolves.toMatchObject({
      status: 'ready',
      url: expect.stringContaining(`${FIRST}repo.bundle`),
    });
  });

  it('consolidates a snapshot that stored nothing new on top of an earlier full bundle (its refs differ from that bundle)', async () => {
    manifest(SECOND, { archiveId: 'second', bundle: null, bundleChain: [link('first', FIRST, 'full')] });
    await expect(sut.status('second', demo, true)).resolves.toMatchObject({ status: 'pending' });
    expect(queues.ensureJob).toHaveBeenCalledWith(QueueName.Bundle, { archiveId: 'second' });
    await expect(sut.status('second', demo, false)).resolves.toMatchObject({ status: 'pending' });
  });

  it('answers NO_BUNDLE before completion, for an empty repository, and for a missing manifest', async () => {
    archive = { ...archive, status: 'running' };
    expect((await rejectionOf(sut.download('second', demo), ApiError)).code).toBe('NO_BUNDLE');
    archive = { ...archive, status: 'completed' };
    manifest(SECOND, { archiveId: 'second', bundle: null, bundleChain: [], empty: true });
    expect((await rejectionOf(sut.download('second', demo), ApiError)).message).toMatch(/no commits/);
    objects.delete(`${SECOND}manifest.json`);
    expect((await rejectionOf(sut.download('second', demo), ApiError)).getStatus()).toBe(HttpStatus.NOT_FOUND);
  });
});

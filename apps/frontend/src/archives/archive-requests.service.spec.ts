import { Readable } from 'node:stream';
import { HttpStatus, Logger } from '@nestjs/common';
import { AuthError, type AuthUser } from '@archiver/auth';
import type { AppConfig } from '@archiver/config';
import {
  type ArchiveRecord,
  type ArchiveCredentialRepository,
  ArchiveRepository,
  DatabaseError,
  DatabaseErrorCode,
  type OperationsRepository,
  type TrackedRepositoryRepository,
} from '@archiver/database';
import { foldRefChanges, GitError, GitErrorCode, UrlPolicy } from '@archiver/git';
import { QueueError, QueueErrorCode, QueueName, type QueueRepository } from '@archiver/queue';
import { ObjectStoreRepository, StorageError, StorageErrorCode } from '@archiver/storage';
import { archiveRecord, rejectionOf } from '@archiver/testing';
import { ApiError } from '../api/api.error';
import { RepositoryTracker, TrackingLimits } from '@archiver/tracking';
import { toApiErrorResponse } from '../api/api-error.mapper';
import { ArchiveRequestsService, checkoutDirFor } from './archive-requests.service';

const demo: AuthUser = { subject: 'sub-demo', username: 'demo', roles: ['archiver-user'], isAdmin: false };
const other: AuthUser = { subject: 'sub-other', username: 'other', roles: ['archiver-user'], isAdmin: false };
const admin: AuthUser = { subject: 'sub-admin', username: 'admin', roles: ['archiver-user', 'archiver-admin'], isAdmin: true };
const QUOTA = 1000;
const config = {
  minio: { consoleUrl: 'http://console.test' },
  limits: { submissionsPerMinute: 0, adminSubmissionsPerMinute: 0, maxTrackedRepositories: 0, storedBytesQuota: QUOTA },
} as AppConfig;

type MockOf<T, K extends keyof T> = { [P in K]: jest.Mock };

const record = (overrides: Partial<ArchiveRecord> = {}) =>
  archiveRecord({
    url: 'http://127.0.0.1:8080/owner/repo.git',
    normalizedUrl: 'http://127.0.0.1:8080/owner/repo',
    requestedBy: demo.subject,
    requestedByName: demo.username,
    ...overrides,
  });

const completed = (overrides: Partial<ArchiveRecord> = {}) =>
  record({ status: 'completed', bucket: 'repo-bucket-1a2b', prefix: 'snapshots/20250101T000000Z-00000000/', ...overrides });

const apiFailure = (promise: Promise<unknown>) => rejectionOf(promise, ApiError);

describe(ArchiveRequestsService.name, () => {
  let sut: ArchiveRequestsService;
  let archives: MockOf<
    ArchiveRepository,
    | 'createOrFindActive'
    | 'findById'
    | 'list'
    | 'deleteVisit'
    | 'countSnapshotsInBucket'
    | 'findNextCompletedVisit'
    | 'countActiveOfRepository'
    | 'findPreviousCompletedVisit'
  >;
  let queues: MockOf<QueueRepository, 'enqueue'>;
  let store: MockOf<
    ObjectStoreRepository,
    'removePrefix' | 'removeIncompleteUploads' | 'removeBucketIfEmpty' | 'statObject' | 'presignedGet' | 'getObject' | 'listObjects'
  > &
    Pick<ObjectStoreRepository, 'removeSnapshotPrefix'>;
  let resolve: jest.Mock;
  let trackers: MockOf<TrackedRepositoryRepository, 'contentAccess'>;
  let usage: { storedBytesOf: jest.Mock };

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(() => {
    archives = {
      createOrFindActive: jest.fn(async (input: object) => ({ archive: record({ ...input }), created: true })),
      findById: jest.fn(),
      list: jest.fn(async () => ({ items: [], total: 0 })),
      deleteVisit: jest.fn(async () => undefined),
      countSnapshotsInBucket: jest.fn(async () => 0),
      findNextCompletedVisit: jest.fn(async () => null),
      countActiveOfRepository: jest.fn(async () => 0),
      findPreviousCompletedVisit: jest.fn(async () => null),
    };
    queues = { enqueue: jest.fn(async () => undefined) };
    trackers = { contentAccess: jest.fn(async () => ({ tracked: false, private: false, granted: false })) };
    store = {
      removePrefix: jest.fn(async () => 3),
      removeIncompleteUploads: jest.fn(async () => 0),
      removeBucketIfEmpty: jest.fn(async () => true),
      statObject: jest.fn(async () => ({ size: 10, etag: 'e', lastModified: new Date(), contentType: undefined })),
      presignedGet: jest.fn(async (bucket: string, key: string) => `http://minio.test/${bucket}/${key}?X-Amz-Signature=abc`),
      getObject: jest.fn(async () => {
        throw new StorageError(StorageErrorCode.NOT_FOUND, 'NoSuchKey');
      }),
      // No chain overrides: no prune has rechained anything.
      listObjects: jest.fn(async function* () {}),
      // The real composition of the mocked primitives (and its missing-bucket rule).
      removeSnapshotPrefix: (bucket: string, prefix: string) =>
        ObjectStoreRepository.prototype.removeSnapshotPrefix.call(store as unknown as ObjectStoreRepository, bucket, prefix),
    };
    resolve = jest.fn(async (host: string) => {
      if (host === 'gone.example') throw Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' });
      if (host === 'internal.example') return [{ address: '10.1.2.3', family: 4 }];
      return [{ address: '93.184.215.14', family: 4 }];
    });
    const policy = new UrlPolicy({ allowedHosts: ['127.0.0.0/8'], resolve });
    usage = { storedBytesOf: jest.fn(async () => 0) };
    const tracker = new RepositoryTracker(
      policy,
      trackers as unknown as TrackedRepositoryRepository,
      archives as unknown as ArchiveRepository,
      queues as unknown as QueueRepository,
      new TrackingLimits(config, usage as unknown as OperationsRepository),
    );
    sut = new ArchiveRequestsService(
      config,
      archives as unknown as ArchiveRepository,
      store as unknown as ObjectStoreRepository,
      trackers as unknown as TrackedRepositoryRepository,
      { kindOf: jest.fn(async () => null) } as unknown as ArchiveCredentialRepository,
      tracker,
    );
  });

  describe('submit', () => {
    it('refuses a user whose archives hold the stored-bytes quota, before recording anything; admins have none', async () => {
      usage.storedBytesOf.mockResolvedValue(QUOTA);
      const refused = await rejectionOf(sut.submit('https://example.org/owner/repo.git', demo));
      // The quota lives in libs/tracking; the API answers it as before.
      expect(toApiErrorResponse(refused)).toMatchObject({
        status: HttpStatus.FORBIDDEN,
        body: { error: { code: 'QUOTA_EXCEEDED', message: expect.stringContaining('1000 B') } },
      });
      expect(archives.createOrFindActive).not.toHaveBeenCalled();
      await sut.submit('https://example.org/owner/repo.git', admin);
      expect(archives.createOrFindActive).toHaveBeenCalledTimes(1);
      usage.storedBytesOf.mockResolvedValue(QUOTA - 1);
      await sut.submit('https://example.org/owner/repo.git', demo);
      expect(usage.storedBytesOf).toHaveBeenLastCalledWith(demo.subject);
    });

    it('records the normalized repository as the token subject and queues it on pending', async () => {
      const result = await sut.submit('HTTPS://Example.ORG/Owner/Repo.git/', demo);

      expect(archives.createOrFindActive).toHaveBeenCalledWith({
        url: 'https://example.org/Owner/Repo.git/',
        normalizedUrl: 'https://example.org/Owner/Repo',
        requestedBy: demo.subject,
        requestedByName: demo.username,
      });
      expect(queues.enqueue).toHaveBeenCalledWith(QueueName.Pending, { archiveId: result.id });
      expect(result).toMatchObject({ status: 'pending', existing: false, requestedBy: demo.subject });
    });

    it('returns the active archive of the same repository without queueing it again', async () => {
      const active = record({ status: 'running' });
      archives.createOrFindActive.mockResolvedValueOnce({ archive: active, created: false });

      const result = await sut.submit('http://127.0.0.1:8080/owner/repo.git', demo);

      expect(result).toMatchObject({ id: active.id, status: 'running', existing: true });
      expect(queues.enqueue).not.toHaveBeenCalled();
    });

    it('still answers with the pending archive when Redis is down (the reconciler queues it later)', async () => {
      const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
      queues.enqueue.mockRejectedValueOnce(new QueueError(QueueErrorCode.Unavailable, 'Could not queue: ECONNREFUSED'));

      const result = await sut.submit('http://127.0.0.1:8080/owner/repo.git', demo);

      expect(result).toMatchObject({ status: 'pending', existing: false });
      expect(warn).toHaveBeenCalledWith(expect.objectContaining({ archiveId: result.id, msg: expect.stringContaining('reconciler') }));
      warn.mockRestore();
    });

    it.each<[string, string, GitErrorCode]>([
      ['a forbidden scheme', 'ftp://x', GitErrorCode.INVALID_URL],
      ['a file URL', 'file:///etc/passwd', GitErrorCode.INVALID_URL],
      ['credentials', 'https://user:pw@example.org/x', GitErrorCode.INVALID_URL],
      ['control characters', 'https://example.org/a\nb', GitErrorCode.INVALID_URL],
      ['an overlong URL', `https://example.org/${'a'.repeat(3000)}`, GitErrorCode.INVALID_URL],
      ['the metadata address', 'http://169.254.169.254/x', GitErrorCode.BLOCKED_BY_POLICY],
      ['a private address', 'http://10.0.0.1/x', GitErrorCode.BLOCKED_BY_POLICY],
      ['a host resolving to a private address', 'https://internal.example/x.git', GitErrorCode.BLOCKED_BY_POLICY],
      ['a host without DNS records', 'https://gone.example/x.git', GitErrorCode.NOT_FOUND],
    ])('refuses %s before recording or queueing anything', async (_name, url, code) => {
      const error = await rejectionOf(sut.submit(url, demo), GitError);

      expect(error.code).toBe(code);
      expect(archives.createOrFindActive).not.toHaveBeenCalled();
      expect(queues.enqueue).not.toHaveBeenCalled();
    });
  });

  describe('submitBatch', () => {
    it('answers each URL on its own, in order', async () => {
      const result = await sut.submitBatch(['http://127.0.0.1:8080/a.git', 'ftp://x', 'http://10.0.0.1/x'], demo);

      expect(result.items).toEqual([
        { url: 'http://127.0.0.1:8080/a.git', archive: expect.objectContaining({ status: 'pending' }), existing: false },
        { url: 'ftp://x', error: { code: 'INVALID_URL', message: expect.stringContaining('https://') } },
        { url: 'http://10.0.0.1/x', error: { code: 'BLOCKED_BY_POLICY', message: expect.stringContaining('private') } },
      ]);
      expect(archives.createOrFindActive).toHaveBeenCalledTimes(1);
      expect(queues.enqueue).toHaveBeenCalledTimes(1);
      expect(result.items[0]!.archive).not.toHaveProperty('existing');
    });

    it('names an unknown host UNKNOWN_HOST, not NOT_FOUND (which means "no such archive")', async () => {
      const result = await sut.submitBatch(['https://gone.example/x.git'], demo);
      expect(result.items[0]!.error).toEqual({ code: 'UNKNOWN_HOST', message: expect.stringContaining('gone.example') });
    });

    it('fails as a whole when the database is down', async () => {
      archives.createOrFindActive.mockRejectedValue(new DatabaseError(DatabaseErrorCode.Unavailable, 'The database is unavailable'));
      await expect(sut.submitBatch(['http://127.0.0.1:8080/a.git', 'http://127.0.0.1:8080/b.git'], demo)).rejects.toBeInstanceOf(
        DatabaseError,
      );
    });
  });

  describe('list', () => {
    it.each([
      ['a user, scope=mine', demo, 'mine', demo.subject],
      ['an admin, scope=mine (their own only, like anyone)', admin, 'mine', admin.subject],
      ["an admin, scope=all (everyone's)", admin, 'all', undefined],
    ] as const)('lists for %s', async (_case, user, scope, requestedBy) => {
      archives.list.mockResolvedValue({ items: [record()], total: 41 });

      const page = await sut.list({ scope, status: 'failed', page: 3, pageSize: 20 }, user);

      expect(archives.list).toHaveBeenCalledWith({ status: 'failed', page: 3, pageSize: 20, requestedBy });
      expect(page).toMatchObject({ total: 41, page: 3, pageSize: 20, items: [expect.objectContaining({ status: 'pending' })] });
    });

    it('refuses scope=all to a user who is not an admin with 403 FORBIDDEN, reading nothing', async () => {
      const error = await rejectionOf(sut.list({ scope: 'all', page: 1, pageSize: 20 }, demo), AuthError);

      expect(error).toBeInstanceOf(AuthError);
      expect(error).toMatchObject({ code: 'FORBIDDEN', message: expect.stringMatching(/archiver-admin.*scope=mine/) });
      expect(archives.list).not.toHaveBeenCalled();
    });

    it("shows each archive's requester name", async () => {
      archives.list.mockResolvedValue({ items: [record({ requestedBy: other.subject, requestedByName: 'other' })], total: 1 });

      const page = await sut.list({ scope: 'all', page: 1, pageSize: 20 }, admin);

      expect(page.items[0]).toMatchObject({ requestedBy: other.subject, requestedByName: 'other' });
    });
  });

  describe('get', () => {
    it("answers 404 for another user's archive and for an unknown id, and shows any archive to an admin", async () => {
      const archive = record({ requestedBy: other.subject });
      archives.findById.mockImplementation(async (id) => (id === archive.id ? archive : null));

      expect((await apiFailure(sut.get(archive.id, demo))).getStatus()).toBe(HttpStatus.NOT_FOUND);
      expect((await apiFailure(sut.get('00000000-0000-4000-8000-ffffffffffff', demo))).code).toBe('NOT_FOUND');
      await expect(sut.get(archive.id, other)).resolves.toMatchObject({ id: archive.id });
      await expect(sut.get(archive.id, admin)).resolves.toMatchObject({ id: archive.id });
    });

    it('shows a visit to everyone who tracks its repository, whoever it was requested for', async () => {
      const archive = record({ requestedBy: other.subject });
      archives.findById.mockResolvedValue(archive);
      trackers.contentAccess.mockImplementation(async (repositoryId: string, subject: string) => ({
        tracked: repositoryId === archive.repositoryId && subject === demo.subject,
        private: false,
        granted: false,
      }));
      await expect(sut.get(archive.id, demo)).resolves.toMatchObject({ id: archive.id });
    });

    // A private repository (it has or had a credential): a visit holds content fetched with someone's credential.
    it.each([
      ['requested it, does not track it', { requestedBy: 'demo' }, { tracked: false, granted: false }, false],
      ['requested it and tracks it, without access of their own', { requestedBy: 'demo' }, { tracked: true, granted: false }, false],
      ['tracks it without access of their own', { requestedBy: 'other' }, { tracked: true, granted: false }, false],
      ['tracks it and proved access with their own credential', { requestedBy: 'other' }, { tracked: true, granted: true }, true],
    ])('a private repository snapshot, for a user who %s: visible=%s', async (_who, requested, access, visible) => {
      const archive = completed({ requestedBy: requested.requestedBy === 'demo' ? demo.subject : other.subject });
      archives.findById.mockResolvedValue(archive);
      trackers.contentAccess.mockResolvedValue({ ...access, private: true });
      if (visible) await expect(sut.get(archive.id, demo)).resolves.toMatchObject({ id: archive.id });
      else expect((await apiFailure(sut.get(archive.id, demo))).getStatus()).toBe(HttpStatus.NOT_FOUND);
      await expect(sut.get(archive.id, admin)).resolves.toMatchObject({ id: archive.id });
      // A visit without content (pending, failed: e.g. the user's own credential was refused) stays theirs to see.
      for (const status of ['pending', 'running', 'failed'] as const) {
        archives.findById.mockResolvedValue({ ...archive, status });
        if (requested.requestedBy === 'demo' || access.tracked) await expect(sut.get(archive.id, demo)).resolves.toMatchObject({ status });
      }
    });

    it('links the MinIO console (root credentials) for admins only, in every view of an archive', async () => {
      const archive = completed({ requestedBy: admin.subject });
      archives.findById.mockResolvedValue(archive);
      archives.list.mockResolvedValue({ items: [archive], total: 1 });

      expect((await sut.get(archive.id, admin)).consoleUrl).toMatch(/^http:\/\/console\.test\/browser\//);
      expect((await sut.list({ scope: 'all', page: 1, pageSize: 10 }, admin)).items[0]!.consoleUrl).toMatch(/^http:\/\/console\.test/);
      archive.requestedBy = demo.subject;
      expect((await sut.get(archive.id, demo)).consoleUrl).toBeNull();
      expect((await sut.list({ scope: 'mine', page: 1, pageSize: 10 }, demo)).items[0]!.consoleUrl).toBeNull();
      expect((await sut.submit('https://example.org/a/b', demo)).consoleUrl).toBeNull();
    });
  });

  describe('delete', () => {
    it.each(['pending', 'queued', 'running'] as const)('refuses a %s archive with 409 and touches nothing', async (status) => {
      archives.findById.mockResolvedValue(record({ status, bucket: 'b', prefix: 'snapshots/x/' }));

      const error = await apiFailure(sut.delete('id'));

      expect(error.getStatus()).toBe(HttpStatus.CONFLICT);
      expect(error.message).toMatch(/wait until it finishes/);
      expect(store.removePrefix).not.toHaveBeenCalled();
      expect(archives.deleteVisit).not.toHaveBeenCalled();
    });

    it('removes the objects, then the row, then the bucket once no completed snapshot is left in it', async () => {
      const archive = completed();
      archives.findById.mockResolvedValue(archive);
      const order: string[] = [];
      store.removePrefix.mockImplementation(async (_bucket: string, prefix: string) => (order.push(prefix), 1));
      archives.deleteVisit.mockImplementation(async () => void order.push('row'));
      store.removeBucketIfEmpty.mockImplementation(async () => (order.push('bucket'), true));

      await sut.delete(archive.id);

      expect(store.removeIncompleteUploads).toHaveBeenCalledWith(archive.bucket, archive.prefix);
      expect(archives.countSnapshotsInBucket).toHaveBeenCalledWith(archive.bucket);
      // With the last snapshot go the view, the shared listings and the shared blobs (listings first: none ever names a blob already gone).
      expect(order).toEqual([archive.prefix, 'row', 'latest/', 'trees/', 'objects/', 'bucket']);
    });

    it('keeps the shared blobs when the last snapshot goes while another archive of the repository is active', async () => {
      archives.findById.mockResolvedValue(completed());
      archives.countActiveOfRepository.mockResolvedValue(1);
      await sut.delete('id');
      expect(store.removePrefix).not.toHaveBeenCalledWith(expect.anything(), 'objects/');
      expect(store.removeBucketIfEmpty).toHaveBeenCalled();
    });

    it.each([
      ['an unchanged visit points at its content', (id: string) => ({ archiveId: 'next', contentFrom: { archiveId: id, prefix: 'p/' } })],
      [
        'an increment builds on its bundle',
        (id: string) => ({
          archiveId: 'next',
          bundleChain: [
            { archiveId: id, kind: 'full', key: 'a', size: 1, sha256: 'x' },
            { archiveId: 'next', kind: 'incremental', key: 'b', size: 1, sha256: 'y' },
          ],
        }),
      ],
    ])('refuses a snapshot the next visit builds on — %s (409 ARCHIVE_REFERENCED) and touches nothing', async (_case, nextManifest) => {
      const archive = completed({ finishedAt: new Date() });
      archives.findById.mockResolvedValue(archive);
      archives.findNextCompletedVisit.mockResolvedValue(completed({ id: 'next', prefix: 'snapshots/next/' }));
      store.getObject.mockResolvedValue(Readable.from([Buffer.from(JSON.stringify(nextManifest(archive.id)))]));

      const error = await apiFailure(sut.delete(archive.id));

      expect(error.getStatus()).toBe(HttpStatus.CONFLICT);
      expect(error.code).toBe('ARCHIVE_REFERENCED');
      expect(store.removePrefix).not.toHaveBeenCalled();
      expect(archives.deleteVisit).not.toHaveBeenCalled();
    });

    it('deletes a snapshot the next visit does not build on (it stored a new full bundle)', async () => {
      const archive = completed({ finishedAt: new Date() });
      archives.findById.mockResolvedValue(archive);
      archives.findNextCompletedVisit.mockResolvedValue(completed({ id: 'next', prefix: 'snapshots/next/' }));
      const fresh = { archiveId: 'next', bundleChain: [{ archiveId: 'next', kind: 'full', key: 'a', size: 1, sha256: 'x' }] };
      store.getObject.mockResolvedValue(Readable.from([Buffer.from(JSON.stringify(fresh))]));
      await sut.delete(archive.id);
      expect(archives.deleteVisit).toHaveBeenCalledWith(archive.id, foldRefChanges);
    });

    it('keeps the bucket while other snapshots live in it', async () => {
      archives.findById.mockResolvedValue(completed());
      archives.countSnapshotsInBucket.mockResolvedValue(2);
      await sut.delete('id');
      expect(store.removeBucketIfEmpty).not.toHaveBeenCalled();
      expect(store.removePrefix).not.toHaveBeenCalledWith(expect.anything(), 'objects/');
    });

    it('deletes a failed archive that never got a location without touching storage', async () => {
      archives.findById.mockResolvedValue(record({ status: 'failed' }));
      await sut.delete('id');
      expect(store.removePrefix).not.toHaveBeenCalled();
      expect(archives.deleteVisit).toHaveBeenCalledWith('id', foldRefChanges);
      expect(store.removeBucketIfEmpty).not.toHaveBeenCalled();
    });

    it('treats a missing bucket as nothing left to remove', async () => {
      archives.findById.mockResolvedValue(completed());
      store.removeIncompleteUploads.mockRejectedValue(new StorageError(StorageErrorCode.NOT_FOUND, 'NoSuchBucket'));
      await sut.delete('id');
      expect(archives.deleteVisit).toHaveBeenCalledWith('id', foldRefChanges);
    });

    it('keeps the row when storage is down, so the delete can be repeated', async () => {
      archives.findById.mockResolvedValue(completed());
      store.removePrefix.mockRejectedValue(new StorageError(StorageErrorCode.UNAVAILABLE, 'ECONNREFUSED'));
      await expect(sut.delete('id')).rejects.toBeInstanceOf(StorageError);
      expect(archives.deleteVisit).not.toHaveBeenCalled();
    });

    it('answers 404 for an unknown id', async () => {
      archives.findById.mockResolvedValue(null);
      expect((await apiFailure(sut.delete('id'))).getStatus()).toBe(HttpStatus.NOT_FOUND);
    });
  });
});

describe(checkoutDirFor.name, () => {
  it.each([
    ['https://host/owner/repo', 'repo'],
    ['https://host/owner/My.Repo', 'My.Repo'],
    ['https://host/owner/a%20b;rm -rf', 'a-b-rm--rf'],
    ['https://host/owner/..', 'repository'],
    ['https://host', 'host'],
    ['https://host/-x', 'x'],
  ])('%s → %s', (url, dir) => {
    expect(checkoutDirFor(url)).toBe(dir);
  });
});

import type { AppConfig } from '@archiver/config';
import { CredentialCipher } from '@archiver/credentials';
import type {
  ImportItemRecord,
  ImportRecord,
  ImportRepository,
  ListedImportItem,
  RepositoryCredentialRepository,
} from '@archiver/database';
import { GitError, GitErrorCode, UrlPolicy } from '@archiver/git';
import type { RepositoryTracker } from '@archiver/tracking';
import { TrackingError, TrackingErrorCode } from '@archiver/tracking';
import type { ForgeRepository } from './forges/forge.types';
import { ImportError, ImportErrorCode } from './import.error';
import type { ImportNotifier } from './import-notifier';
import { ImportRunner } from './import-runner';

const BASE = 'https://forge.example';
const listed = (name: string, flags: Partial<ForgeRepository> = {}): ForgeRepository => ({
  fullName: `org/${name}`,
  relativePath: name,
  cloneUrl: `${BASE}/org/${name}.git`,
  private: false,
  fork: false,
  archived: false,
  ...flags,
});

/** An in-memory ImportRepository: the rows the runner reads and writes. */
function memoryImports(record: ImportRecord, tokenCiphertext: string | null) {
  const items: ImportItemRecord[] = [];
  const current = { record };
  const fake = {
    get record(): ImportRecord {
      return current.record;
    },
    items,
    findById: jest.fn(async (): Promise<ImportRecord> => ({ ...current.record })),
    findTokenCiphertext: jest.fn(async () => tokenCiphertext),
    setState: jest.fn(async (_id: string, state: ImportRecord['state'], failure?: { code: string; message: string }) => {
      current.record = { ...current.record, state, errorCode: failure?.code ?? null, error: failure?.message ?? null };
    }),
    addItems: jest.fn(async (_id: string, added: readonly ListedImportItem[]) => {
      for (const item of added) {
        if (items.some((i) => i.name === item.name)) continue;
        items.push({
          ...item,
          id: `item-${items.length}`,
          importId: record.id,
          errorCode: null,
          error: null,
          repositoryId: null,
        } as ImportItemRecord);
      }
    }),
    pendingItems: jest.fn(async () => items.filter((i) => i.outcome === 'pending').map((i) => ({ ...i }))),
    settleItem: jest.fn(
      async (id: string, s: { outcome: string; errorCode?: string | null; error?: string | null; repositoryId?: string | null }) => {
        Object.assign(
          items.find((i) => i.id === id)!,
          { outcome: s.outcome, errorCode: s.errorCode ?? null, error: s.error ?? null, repositoryId: s.repositoryId ?? null },
        );
      },
    ),
    countByOutcome: jest.fn(async () => new Map([[record.id, {}]])),
  };
  return fake;
}

describe(ImportRunner.name, () => {
  const cipher = new CredentialCipher([{ id: 'k1', key: Buffer.alloc(32, 7) }]);
  const config = { imports: { pageSize: 2, maxPages: 5, requestTimeoutMs: 1000, maxResponseBytes: 1 << 20 } } as AppConfig;
  const signal = new AbortController().signal;
  let imports: ReturnType<typeof memoryImports>;
  let tracker: { track: jest.Mock };
  let credentials: { set: jest.Mock };
  let notifier: { importFinished: jest.Mock };
  let forge: { list: jest.Mock };
  let sut: ImportRunner;

  const record = (overrides: Partial<ImportRecord> = {}): ImportRecord =>
    ({
      id: '00000000-0000-4000-8000-000000000001',
      requestedBy: 'subject-1',
      requestedByName: 'alice',
      requestedByAdmin: false,
      forge: 'gitea',
      baseUrl: `${BASE}/`,
      owner: 'org',
      include: null,
      exclude: null,
      includeForks: false,
      includeArchived: false,
      intervalHours: null,
      state: 'listing',
      errorCode: null,
      error: null,
      hasToken: true,
      createdAt: new Date(),
      updatedAt: new Date(),
      finishedAt: null,
      ...overrides,
    }) as ImportRecord;

  const build = (r: ImportRecord) => {
    imports = memoryImports(r, cipher.encrypt({ kind: 'token', token: 'forge-token' }, r.id));
    tracker = { track: jest.fn(async (url: string) => ({ repositoryId: `repo:${url}`, existing: false })) };
    credentials = { set: jest.fn(async () => undefined) };
    notifier = { importFinished: jest.fn(async () => undefined) };
    sut = new ImportRunner(
      config,
      new UrlPolicy({ allowedHosts: [] }),
      imports as unknown as ImportRepository,
      cipher,
      credentials as unknown as RepositoryCredentialRepository,
      tracker as unknown as RepositoryTracker,
      notifier as unknown as ImportNotifier,
    );
    forge = { list: jest.fn() };
    (sut as unknown as { clients: Record<string, unknown> }).clients = { gitea: forge };
  };

  beforeEach(() => build(record()));

  it('tracks what the filters select, gives private ones the token, and notifies once', async () => {
    forge.list.mockResolvedValue([
      listed('a'),
      listed('b', { private: true }),
      listed('c', { fork: true }),
      listed('d', { archived: true }),
    ]);
    await sut.run(imports.record.id, { lastAttempt: false, signal });
    expect(Object.fromEntries(imports.items.map((i) => [i.name, i.outcome]))).toEqual({
      'org/a': 'tracked',
      'org/b': 'tracked',
      'org/c': 'skipped_fork',
      'org/d': 'skipped_archived',
    });
    expect(tracker.track).toHaveBeenCalledTimes(2);
    const [, , user, credential] = tracker.track.mock.calls.find(([url]) => url === `${BASE}/org/b.git`)!;
    expect(user).toEqual({ subject: 'subject-1', username: 'alice', isAdmin: false });
    await credential.store('repo-b');
    const stored = credentials.set.mock.calls[0][1];
    expect(cipher.decrypt(stored.ciphertext, 'repo-b')).toEqual({ kind: 'token', token: 'forge-token' });
    expect(tracker.track.mock.calls.find(([url]) => url === `${BASE}/org/a.git`)![3]).toBeUndefined();
    expect(imports.record.state).toBe('completed');
    expect(notifier.importFinished).toHaveBeenCalledTimes(1);
  });

  it('lists the forge inside the worker’s slot on its host; a postponement leaves the import listing, untracked', async () => {
    forge.list.mockResolvedValue([listed('a')]);
    const hosts: string[] = [];
    const postponed = new Error('host busy: try later');
    await expect(
      sut.run(imports.record.id, {
        lastAttempt: false,
        signal,
        onForge: async (baseUrl) => {
          hosts.push(baseUrl);
          throw postponed;
        },
      }),
    ).rejects.toBe(postponed);
    expect(forge.list).not.toHaveBeenCalled();
    expect(imports.record.state).toBe('listing');
    expect(tracker.track).not.toHaveBeenCalled();

    await sut.run(imports.record.id, { lastAttempt: false, signal, onForge: (baseUrl, work) => (hosts.push(baseUrl), work()) });
    expect(hosts).toEqual([imports.record.baseUrl, imports.record.baseUrl]);
    expect(imports.record.state).toBe('completed');
  });

  it('a retried job lists into the same rows and tracks only what is still pending', async () => {
    forge.list.mockResolvedValue([listed('a'), listed('b'), listed('c')]);
    // The first attempt dies (e.g. the database went away) after tracking "a".
    tracker.track.mockImplementationOnce(async (url: string) => ({ repositoryId: `repo:${url}`, existing: false }));
    tracker.track.mockImplementationOnce(async () => {
      throw new Error('connection lost');
    });
    await expect(sut.run(imports.record.id, { lastAttempt: false, signal })).rejects.toThrow('connection lost');
    expect(imports.record.state).toBe('tracking');
    await sut.run(imports.record.id, { lastAttempt: false, signal });
    expect(imports.items).toHaveLength(3);
    expect(tracker.track.mock.calls.map(([url]) => url.split('/').pop())).toEqual(['a.git', 'b.git', 'b.git', 'c.git']);
    expect(imports.items.every((i) => i.outcome === 'tracked')).toBe(true);
    // Settled imports are left alone.
    await sut.run(imports.record.id, { lastAttempt: false, signal });
    expect(tracker.track).toHaveBeenCalledTimes(4);
    expect(notifier.importFinished).toHaveBeenCalledTimes(1);
  });

  it('records a refused repository on its item and goes on; a transient one is retried unless it is the last attempt', async () => {
    forge.list.mockResolvedValue([listed('limit'), listed('dns'), listed('ok')]);
    tracker.track.mockImplementation(async (url: string) => {
      if (url.includes('limit')) throw new TrackingError(TrackingErrorCode.TRACKED_LIMIT, 'You track 3 repositories');
      if (url.includes('dns')) throw new GitError(GitErrorCode.NETWORK, 'Could not resolve forge.example');
      return { repositoryId: 'r', existing: true };
    });
    await expect(sut.run(imports.record.id, { lastAttempt: false, signal })).rejects.toMatchObject({ code: GitErrorCode.NETWORK });
    await sut.run(imports.record.id, { lastAttempt: true, signal });
    expect(imports.items.map((i) => [i.name, i.outcome, i.errorCode])).toEqual([
      ['org/limit', 'failed', 'TRACKED_LIMIT'],
      ['org/dns', 'failed', 'NETWORK'],
      ['org/ok', 'already_tracked', null],
    ]);
    expect(imports.record.state).toBe('completed');
  });

  it('fails the import with the forge’s code: at once when permanent, after the last attempt when transient', async () => {
    forge.list.mockRejectedValue(new ImportError(ImportErrorCode.FORGE_AUTH_FAILED, 'refused (HTTP 401)'));
    await sut.run(imports.record.id, { lastAttempt: false, signal });
    expect(imports.record).toMatchObject({ state: 'failed', errorCode: 'FORGE_AUTH_FAILED' });
    expect(notifier.importFinished).toHaveBeenCalledWith(expect.anything(), 'failed', expect.anything(), 'FORGE_AUTH_FAILED');

    build(record());
    forge.list.mockRejectedValue(new ImportError(ImportErrorCode.FORGE_UNAVAILABLE, 'HTTP 503'));
    await expect(sut.run(imports.record.id, { lastAttempt: false, signal })).rejects.toMatchObject({ code: 'FORGE_UNAVAILABLE' });
    expect(imports.record.state).toBe('listing');
    await sut.run(imports.record.id, { lastAttempt: true, signal });
    expect(imports.record).toMatchObject({ state: 'failed', errorCode: 'FORGE_UNAVAILABLE' });
  });

  it('never hands the token to a clone URL off the forge', async () => {
    forge.list.mockResolvedValue([
      listed('evil', { private: true, cloneUrl: 'https://attacker.example/org/evil.git' }),
      listed('downgrade', { private: true, cloneUrl: 'http://forge.example/org/downgrade.git' }),
    ]);
    await sut.run(imports.record.id, { lastAttempt: false, signal });
    expect(tracker.track).not.toHaveBeenCalled();
    expect(imports.items.map((i) => [i.outcome, i.errorCode])).toEqual([
      ['failed', 'FORGE_RESPONSE_INVALID'],
      ['failed', 'FORGE_RESPONSE_INVALID'],
    ]);
  });
});

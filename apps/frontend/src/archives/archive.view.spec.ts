import { archiveRecord } from '@archiver/testing';
import { toArchiveView } from './archive.view';

const base = archiveRecord({
  id: '6f1c8a5e-8d5a-4d1e-9a43-0b7c1f2e3d4a',
  url: 'https://example.org/owner/repo.git',
  normalizedUrl: 'https://example.org/owner/repo',
  requestedBy: 'sub-demo',
  requestedByName: 'demo',
});

describe(toArchiveView.name, () => {
  it('shows a pending archive with every later stamp, duration and location null', () => {
    expect(toArchiveView(base, 'http://console.test')).toEqual({
      id: base.id,
      url: base.url,
      normalizedUrl: base.normalizedUrl,
      status: 'pending',
      requestedBy: 'sub-demo',
      requestedByName: 'demo',
      createdAt: '2025-01-01T00:00:00.000Z',
      injectedAt: null,
      startedAt: null,
      finishedAt: null,
      durations: { waitMs: null, injectMs: null, runMs: null, totalMs: null },
      attempts: 0,
      error: null,
      bucket: null,
      prefix: null,
      commit: null,
      refCount: null,
      fileCount: null,
      byteCount: null,
      consoleUrl: null,
      repositoryId: base.repositoryId,
      outcome: null,
      verification: { status: 'unverified', checkedAt: null, verifiedAt: null, error: null },
    });
  });

  it('derives each stage duration from its two stamps', () => {
    const view = toArchiveView(
      {
        ...base,
        status: 'completed',
        injectedAt: new Date('2025-01-01T00:00:00.250Z'),
        startedAt: new Date('2025-01-01T00:00:01.000Z'),
        finishedAt: new Date('2025-01-01T00:00:04.500Z'),
        attempts: 1,
        bucket: 'example-org-owner-repo-1a2b3c4d',
        prefix: 'snapshots/20250101T000001Z-6f1c8a5e/',
        commit: 'a'.repeat(40),
        refCount: 7,
        fileCount: 12,
        byteCount: 5_000_000_000n,
      },
      'http://console.test/',
    );
    expect(view.durations).toEqual({ waitMs: 250, injectMs: 750, runMs: 3500, totalMs: 4500 });
    expect(view.finishedAt).toBe('2025-01-01T00:00:04.500Z');
    expect(view.byteCount).toBe(5_000_000_000);
    expect(view.consoleUrl).toBe('http://console.test/browser/example-org-owner-repo-1a2b3c4d/snapshots%2F20250101T000001Z-6f1c8a5e%2F');
  });

  it('keeps the stages that happened when one is missing (failed before a worker started)', () => {
    const view = toArchiveView(
      { ...base, status: 'failed', injectedAt: new Date('2025-01-01T00:00:00.100Z'), finishedAt: new Date('2025-01-01T00:00:02.000Z') },
      'http://console.test',
    );
    expect(view.durations).toEqual({ waitMs: 100, injectMs: null, runMs: null, totalMs: 2000 });
  });

  it('shows the error as {code, message}, also while a retry waits', () => {
    const failed = toArchiveView({ ...base, status: 'failed', errorCode: 'NOT_FOUND', error: 'Repository not found' }, 'http://c');
    expect(failed.error).toEqual({ code: 'NOT_FOUND', message: 'Repository not found' });
    const retrying = toArchiveView({ ...base, status: 'queued', errorCode: null, error: 'connection reset' }, 'http://c');
    expect(retrying.error).toEqual({ code: 'UNKNOWN', message: 'connection reset' });
  });

  it('links the bucket root while the prefix is not yet known', () => {
    expect(toArchiveView({ ...base, bucket: 'b-1' }, 'http://c').consoleUrl).toBe('http://c/browser/b-1');
  });
});

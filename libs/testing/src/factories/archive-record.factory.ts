import type { ArchiveRecord } from '@archiver/database';

let created = 0;

/**
 * A pending archive row as the repository returns it, with `overrides` applied. Each call gets
 * its own id, so rows made in one test never collide.
 */
export function archiveRecord(overrides: Partial<ArchiveRecord> = {}): ArchiveRecord {
  created++;
  return {
    id: `00000000-0000-4000-8000-${String(created).padStart(12, '0')}`,
    url: 'https://example.org/owner/repo.git',
    normalizedUrl: 'https://example.org/owner/repo',
    status: 'pending',
    requestedBy: 'sub-demo',
    requestedByName: 'demo',
    createdAt: new Date('2025-01-01T00:00:00.000Z'),
    injectedAt: null,
    startedAt: null,
    finishedAt: null,
    updatedAt: new Date('2025-01-01T00:00:00.000Z'),
    attempts: 0,
    errorCode: null,
    error: null,
    bucket: null,
    prefix: null,
    commit: null,
    refCount: null,
    fileCount: null,
    byteCount: null,
    runId: null,
    runExpiresAt: null,
    repositoryId: '00000000-0000-4000-9000-000000000001',
    outcome: null,
    refsHash: null,
    changesSinceId: null,
    changeSummary: null,
    verifiedAt: null,
    verifyErrorCode: null,
    verifyError: null,
    verifyCheckedAt: null,
    ...overrides,
  };
}

import type { ImportItemRecord, ImportRecord } from '@archiver/database';
import {
  type Forge,
  IMPORT_OUTCOMES,
  type ImportCounts,
  type ImportDetailView,
  type ImportItemView,
  type ImportOutcome,
  type ImportState,
  type ImportSummaryView,
} from './import.contract';

export function toImportCounts(byOutcome: Record<string, number> | undefined): ImportCounts {
  const counts = Object.fromEntries(IMPORT_OUTCOMES.map((outcome) => [outcome, byOutcome?.[outcome] ?? 0])) as Record<
    ImportOutcome,
    number
  >;
  return { ...counts, total: Object.values(counts).reduce((sum, count) => sum + count, 0) };
}

export function toImportSummaryView(record: ImportRecord, counts: ImportCounts, showRequester: boolean): ImportSummaryView {
  return {
    id: record.id,
    forge: record.forge as Forge,
    baseUrl: record.baseUrl,
    owner: record.owner,
    include: record.include,
    exclude: record.exclude,
    includeForks: record.includeForks,
    includeArchived: record.includeArchived,
    intervalHours: record.intervalHours,
    hasToken: record.hasToken,
    state: record.state as ImportState,
    errorCode: record.errorCode,
    error: record.error,
    counts,
    requestedBy: showRequester ? (record.requestedByName ?? record.requestedBy) : null,
    createdAt: record.createdAt.toISOString(),
    finishedAt: record.finishedAt?.toISOString() ?? null,
  };
}

export function toImportItemView(item: ImportItemRecord): ImportItemView {
  return {
    name: item.name,
    url: item.url,
    private: item.private,
    fork: item.fork,
    archived: item.archived,
    outcome: item.outcome as ImportOutcome,
    errorCode: item.errorCode,
    error: item.error,
    repositoryId: item.repositoryId,
  };
}

export function toImportDetailView(summary: ImportSummaryView, items: readonly ImportItemRecord[]): ImportDetailView {
  return { ...summary, items: items.map(toImportItemView) };
}

import { Injectable } from '@nestjs/common';
import type { RepositoryImport, RepositoryImportItem } from './generated/prisma/client';
import { translateDatabaseError } from './database.error';
import { PrismaService } from './prisma.service';

/** An import without its token: the ciphertext travels only through findTokenCiphertext. */
export type ImportRecord = Omit<RepositoryImport, 'token'> & { hasToken: boolean };
export type ImportItemRecord = RepositoryImportItem;
export type ImportStateValue = RepositoryImport['state'];

export interface NewImport {
  requestedBy: string;
  requestedByName: string | null;
  requestedByAdmin: boolean;
  forge: string;
  baseUrl: string;
  owner: string;
  include: string | null;
  exclude: string | null;
  includeForks: boolean;
  includeArchived: boolean;
  intervalHours: number | null;
}

/** A repository as the forge listed it, with what the filters decided before any tracking. */
export interface ListedImportItem {
  name: string;
  url: string;
  private: boolean;
  fork: boolean;
  archived: boolean;
  /** pending (to track) or the reason it is left out (skipped_fork, skipped_archived, excluded). */
  outcome: string;
}

export interface ItemSettlement {
  outcome: string;
  errorCode?: string | null;
  error?: string | null;
  repositoryId?: string | null;
}

const IMPORT_FIELDS = {
  id: true,
  requestedBy: true,
  requestedByName: true,
  requestedByAdmin: true,
  forge: true,
  baseUrl: true,
  owner: true,
  include: true,
  exclude: true,
  includeForks: true,
  includeArchived: true,
  intervalHours: true,
  state: true,
  errorCode: true,
  error: true,
  createdAt: true,
  updatedAt: true,
  finishedAt: true,
  token: true,
} as const;

/** The only code that touches repository_import and repository_import_item. */
@Injectable()
export class ImportRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** The token is stored in the same insert, already encrypted (it is encrypted for the import's id, so the id is chosen here). */
  async create(id: string, input: NewImport, tokenCiphertext: string | null): Promise<ImportRecord> {
    const row = await this.run(() =>
      this.prisma.repositoryImport.create({ data: { id, ...input, token: tokenCiphertext }, select: IMPORT_FIELDS }),
    );
    return withoutToken(row);
  }

  async findById(id: string): Promise<ImportRecord | null> {
    const row = await this.run(() => this.prisma.repositoryImport.findUnique({ where: { id }, select: IMPORT_FIELDS }));
    return row ? withoutToken(row) : null;
  }

  async findTokenCiphertext(id: string): Promise<string | null> {
    const row = await this.run(() => this.prisma.repositoryImport.findUnique({ where: { id }, select: { token: true } }));
    return row?.token ?? null;
  }

  /** Newest first; `requestedBy` undefined lists everyone's (admins). */
  async list(requestedBy: string | undefined, page: number, pageSize: number): Promise<{ items: ImportRecord[]; total: number }> {
    const where = requestedBy === undefined ? {} : { requestedBy };
    const [rows, total] = await this.run(() =>
      Promise.all([
        this.prisma.repositoryImport.findMany({
          where,
          select: IMPORT_FIELDS,
          orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
          skip: (page - 1) * pageSize,
          take: pageSize,
        }),
        this.prisma.repositoryImport.count({ where }),
      ]),
    );
    return { items: rows.map(withoutToken), total };
  }

  async setState(id: string, state: ImportStateValue, failure?: { code: string; message: string }): Promise<void> {
    const settled = state === 'completed' || state === 'failed';
    await this.run(() =>
      this.prisma.repositoryImport.update({
        where: { id },
        data: {
          state,
          errorCode: failure?.code ?? null,
          error: failure?.message ?? null,
          finishedAt: settled ? new Date() : null,
        },
      }),
    );
  }

  /**
   * Records what the forge listed. A retried listing inserts only names not seen before: rows
   * already there keep their outcome, so nothing is tracked twice and no row is duplicated.
   */
  async addItems(importId: string, items: readonly ListedImportItem[]): Promise<void> {
    if (items.length === 0) return;
    await this.run(() =>
      this.prisma.repositoryImportItem.createMany({ data: items.map((item) => ({ importId, ...item })), skipDuplicates: true }),
    );
  }

  async items(importId: string): Promise<ImportItemRecord[]> {
    return this.run(() => this.prisma.repositoryImportItem.findMany({ where: { importId }, orderBy: { name: 'asc' } }));
  }

  async pendingItems(importId: string): Promise<ImportItemRecord[]> {
    return this.run(() => this.prisma.repositoryImportItem.findMany({ where: { importId, outcome: 'pending' }, orderBy: { name: 'asc' } }));
  }

  async settleItem(itemId: string, settlement: ItemSettlement): Promise<void> {
    await this.run(() =>
      this.prisma.repositoryImportItem.update({
        where: { id: itemId },
        data: {
          outcome: settlement.outcome,
          errorCode: settlement.errorCode ?? null,
          error: settlement.error ?? null,
          repositoryId: settlement.repositoryId ?? null,
        },
      }),
    );
  }

  /** How many items ended each way, by outcome. */
  async countByOutcome(importIds: readonly string[]): Promise<Map<string, Record<string, number>>> {
    const result = new Map<string, Record<string, number>>();
    if (importIds.length === 0) return result;
    const groups = await this.run(() =>
      this.prisma.repositoryImportItem.groupBy({
        by: ['importId', 'outcome'],
        where: { importId: { in: [...importIds] } },
        _count: { _all: true },
      }),
    );
    for (const group of groups) {
      const counts = result.get(group.importId) ?? {};
      counts[group.outcome] = group._count._all;
      result.set(group.importId, counts);
    }
    return result;
  }

  /** The imports' token ciphertexts in the shape the key rotation walks (`repositoryId` holds the import's id there). */
  readonly tokens = {
    listAll: async (): Promise<{ repositoryId: string; ciphertext: string }[]> => {
      const rows = await this.run(() =>
        this.prisma.repositoryImport.findMany({
          where: { token: { not: null } },
          select: { id: true, token: true },
          orderBy: { id: 'asc' },
        }),
      );
      return rows.map((row) => ({ repositoryId: row.id, ciphertext: row.token! }));
    },
    replaceCiphertext: async (id: string, from: string, to: string): Promise<boolean> => {
      const { count } = await this.run(() => this.prisma.repositoryImport.updateMany({ where: { id, token: from }, data: { token: to } }));
      return count === 1;
    },
  };

  private async run<T>(query: () => Promise<T>): Promise<T> {
    try {
      return await query();
    } catch (error) {
      throw translateDatabaseError(error, 'Import not found');
    }
  }
}

function withoutToken(row: RepositoryImport): ImportRecord {
  const { token, ...rest } = row;
  return { ...rest, hasToken: token !== null };
}

import { Injectable } from '@nestjs/common';
import { Prisma } from './generated/prisma/client';
import { translateDatabaseError } from './database.error';
import { PrismaService } from './prisma.service';

export interface AuditEntry {
  actorSubject: string;
  actorName: string | null;
  action: string;
  targetType: string;
  targetId: string | null;
  requestId: string | null;
  /** Only fields the action declares safe to keep; never a secret. */
  details: Record<string, unknown> | null;
}

export interface AuditRecord extends AuditEntry {
  id: string;
  at: Date;
}

export interface AuditQuery {
  actor?: string;
  action?: string;
  targetId?: string;
  from?: Date;
  to?: Date;
  page: number;
  pageSize: number;
}

@Injectable()
export class AuditRepository {
  constructor(private readonly prisma: PrismaService) {}

  async record(entry: AuditEntry): Promise<void> {
    await this.run(() =>
      this.prisma.auditEvent.create({
        data: { ...entry, details: entry.details === null ? Prisma.DbNull : (entry.details as Prisma.InputJsonObject) },
      }),
    );
  }

  /** Newest first. `actor` matches the subject exactly or the user name case-insensitively; `action` may end in `.*`. */
  async list(query: AuditQuery): Promise<{ items: AuditRecord[]; total: number }> {
    const where: Prisma.AuditEventWhereInput = {
      ...(query.actor !== undefined && {
        OR: [{ actorSubject: query.actor }, { actorName: { equals: query.actor, mode: 'insensitive' } }],
      }),
      ...(query.action !== undefined &&
        (query.action.endsWith('.*') ? { action: { startsWith: query.action.slice(0, -1) } } : { action: query.action })),
      ...(query.targetId !== undefined && { targetId: query.targetId }),
      ...((query.from ?? query.to) !== undefined && { at: { ...(query.from && { gte: query.from }), ...(query.to && { lt: query.to }) } }),
    };
    const [rows, total] = await this.run(() =>
      Promise.all([
        this.prisma.auditEvent.findMany({
          where,
          orderBy: [{ at: 'desc' }, { id: 'desc' }],
          skip: (query.page - 1) * query.pageSize,
          take: query.pageSize,
        }),
        this.prisma.auditEvent.count({ where }),
      ]),
    );
    return { items: rows.map((row) => ({ ...row, details: (row.details as Record<string, unknown> | null) ?? null })), total };
  }

  private async run<T>(query: () => Promise<T>): Promise<T> {
    try {
      return await query();
    } catch (error) {
      throw translateDatabaseError(error, 'Audit event not found');
    }
  }
}

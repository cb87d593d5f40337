import { Injectable } from '@nestjs/common';
import type { WebhookDelivery, WebhookEndpoint } from './generated/prisma/client';
import { DatabaseError, DatabaseErrorCode, translateDatabaseError } from './database.error';
import { PrismaService } from './prisma.service';

/** An endpoint as the API and the fan-out see it: without its secret's ciphertext. */
export type WebhookEndpointRecord = Omit<WebhookEndpoint, 'secret'>;
export type WebhookDeliveryRecord = Omit<WebhookDelivery, 'body'>;

export interface NewWebhookEndpoint {
  /** Chosen by the caller: the secret's ciphertext is bound to it (libs/credentials). */
  id: string;
  ownerSubject: string;
  ownerName: string | null;
  url: string;
  secretCiphertext: string;
  events: string[];
  allRepositories: boolean;
}

export interface WebhookEndpointChanges {
  url?: string;
  events?: string[];
  active?: boolean;
  allRepositories?: boolean;
  secretCiphertext?: string;
}

export interface NewWebhookDelivery {
  endpointId: string;
  event: string;
  repositoryId: string | null;
  archiveId: string | null;
  body: string;
}

/** A delivery with what sending it needs: the exact body and the endpoint's URL and secret ciphertext. */
export interface DeliveryToSend {
  delivery: WebhookDelivery;
  endpoint: { id: string; url: string; secretCiphertext: string; active: boolean };
}

const ENDPOINT_FIELDS = {
  id: true,
  ownerSubject: true,
  ownerName: true,
  url: true,
  events: true,
  allRepositories: true,
  active: true,
  createdAt: true,
  updatedAt: true,
} as const;

const DELIVERY_FIELDS = {
  id: true,
  endpointId: true,
  event: true,
  repositoryId: true,
  archiveId: true,
  status: true,
  attempts: true,
  lastStatusCode: true,
  lastError: true,
  createdAt: true,
  lastAttemptAt: true,
  finishedAt: true,
} as const;

/** The only code that touches webhook_endpoint and webhook_delivery. */
@Injectable()
export class WebhookRepository {
  constructor(private readonly prisma: PrismaService) {}

  createEndpoint(input: NewWebhookEndpoint): Promise<WebhookEndpointRecord> {
    const { secretCiphertext, ...rest } = input;
    return this.run(() => this.prisma.webhookEndpoint.create({ data: { ...rest, secret: secretCiphertext }, select: ENDPOINT_FIELDS }));
  }

  /** Newest first; `ownerSubject` undefined lists everyone's (admins). */
  async listEndpoints(
    ownerSubject: string | undefined,
    page: number,
    pageSize: number,
  ): Promise<{ items: WebhookEndpointRecord[]; total: number }> {
    const where = ownerSubject === undefined ? {} : { ownerSubject };
    const [items, total] = await this.run(() =>
      Promise.all([
        this.prisma.webhookEndpoint.findMany({
          where,
          select: ENDPOINT_FIELDS,
          orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
          skip: (page - 1) * pageSize,
          take: pageSize,
        }),
        this.prisma.webhookEndpoint.count({ where }),
      ]),
    );
    return { items, total };
  }

  findEndpoint(id: string): Promise<WebhookEndpointRecord | null> {
    return this.run(() => this.prisma.webhookEndpoint.findUnique({ where: { id }, select: ENDPOINT_FIELDS }));
  }

  async updateEndpoint(id: string, changes: WebhookEndpointChanges): Promise<WebhookEndpointRecord> {
    const { secretCiphertext, ...rest } = changes;
    return this.run(() =>
      this.prisma.webhookEndpoint.update({
        where: { id },
        data: { ...rest, ...(secretCiphertext !== undefined && { secret: secretCiphertext }) },
        select: ENDPOINT_FIELDS,
      }),
    );
  }

  /** Its deliveries go with it (cascade). */
  async deleteEndpoint(id: string): Promise<void> {
    await this.run(() => this.prisma.webhookEndpoint.delete({ where: { id } }));
  }

  /**
   * Active endpoints subscribed to `event` for this repository: those of the people who track
   * it, and those registered for every repository (admins').
   */
  subscribers(repositoryId: string, event: string): Promise<WebhookEndpointRecord[]> {
    return this.run(
      () =>
        this.prisma.$queryRaw<WebhookEndpointRecord[]>`
        SELECT e.id, e.owner_subject AS "ownerSubject", e.owner_name AS "ownerName", e.url, e.events,
               e.all_repositories AS "allRepositories", e.active, e.created_at AS "createdAt", e.updated_at AS "updatedAt"
        FROM webhook_endpoint e
        WHERE e.active AND ${event} = ANY (e.events)
          AND (e.all_repositories OR EXISTS (
            SELECT 1 FROM repository_tracker t WHERE t.repository_id = ${repositoryId}::uuid AND t.user_subject = e.owner_subject))
        ORDER BY e.created_at`,
    );
  }

  /** Active endpoints subscribed to `event` about a user's own work (an import): theirs, and those registered for everything (admins'). */
  ownerSubscribers(ownerSubject: string, event: string): Promise<WebhookEndpointRecord[]> {
    return this.run(() =>
      this.prisma.webhookEndpoint.findMany({
        where: { active: true, events: { has: event }, OR: [{ allRepositories: true }, { ownerSubject }] },
        select: ENDPOINT_FIELDS,
        orderBy: { createdAt: 'asc' },
      }),
    );
  }

  /** One row per delivery, in one transaction; returns their ids in the input's order. */
  async createDeliveries(deliveries: readonly NewWebhookDelivery[]): Promise<string[]> {
    if (deliveries.length === 0) return [];
    const rows = await this.run(() =>
      this.prisma.$transaction(deliveries.map((data) => this.prisma.webhookDelivery.create({ data, select: { id: true } }))),
    );
    return rows.map((row) => row.id);
  }

  /**
   * Deliveries still pending that were created before `before`, by id, `limit` at a time after
   * `afterId`: the reconciler makes sure each has a job (its job may have been lost to a Redis
   * outage between the row and the job, or a wiped Redis).
   */
  findPendingDeliveries(before: Date, limit: number, afterId?: string): Promise<string[]> {
    return this.run(async () => {
      const rows = await this.prisma.webhookDelivery.findMany({
        where: { status: 'pending', createdAt: { lt: before }, ...(afterId === undefined ? {} : { id: { gt: afterId } }) },
        orderBy: { id: 'asc' },
        take: limit,
        select: { id: true },
      });
      return rows.map((row) => row.id);
    });
  }

  async findDeliveryToSend(id: string): Promise<DeliveryToSend | null> {
    const row = await this.run(() =>
      this.prisma.webhookDelivery.findUnique({
        where: { id },
        include: { endpoint: { select: { id: true, url: true, secret: true, active: true } } },
      }),
    );
    if (!row) return null;
    const { endpoint, ...delivery } = row;
    return { delivery, endpoint: { id: endpoint.id, url: endpoint.url, secretCiphertext: endpoint.secret, active: endpoint.active } };
  }

  /** Records an attempt only while the delivery is still pending (a duplicate job cannot undo a final state). */
  async recordAttempt(
    id: string,
    progress: {
      status: WebhookDelivery['status'];
      attempts: number;
      lastStatusCode: number | null;
      lastError: string | null;
      finishedAt: Date | null;
    },
    at: Date,
  ): Promise<boolean> {
    const { count } = await this.run(() =>
      this.prisma.webhookDelivery.updateMany({ where: { id, status: 'pending' }, data: { ...progress, lastAttemptAt: at } }),
    );
    return count === 1;
  }

  async listDeliveries(endpointId: string, page: number, pageSize: number): Promise<{ items: WebhookDeliveryRecord[]; total: number }> {
    const [items, total] = await this.run(() =>
      Promise.all([
        this.prisma.webhookDelivery.findMany({
          where: { endpointId },
          select: DELIVERY_FIELDS,
          orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
          skip: (page - 1) * pageSize,
          take: pageSize,
        }),
        this.prisma.webhookDelivery.count({ where: { endpointId } }),
      ]),
    );
    return { items, total };
  }

  /** The settled visit of the repository just before this archive (by finish time), or null. */
  async previousSettledVisit(
    repositoryId: string,
    archiveId: string,
    before: Date,
  ): Promise<{ status: 'completed' | 'failed'; errorCode: string | null } | null> {
    const row = await this.run(() =>
      this.prisma.archive.findFirst({
        where: { repositoryId, id: { not: archiveId }, status: { in: ['completed', 'failed'] }, finishedAt: { lte: before } },
        orderBy: [{ finishedAt: 'desc' }, { createdAt: 'desc' }],
        select: { status: true, errorCode: true },
      }),
    );
    return row ? { status: row.status as 'completed' | 'failed', errorCode: row.errorCode } : null;
  }

  /** The repository's push-hook secret ciphertext, or null when it has none (or does not exist). */
  async findHookSecret(repositoryId: string): Promise<string | null> {
    const row = await this.run(() => this.prisma.repository.findUnique({ where: { id: repositoryId }, select: { hookSecret: true } }));
    return row?.hookSecret ?? null;
  }

  /** Sets (or, with null, removes) the push-hook secret. */
  async setHookSecret(repositoryId: string, ciphertext: string | null): Promise<void> {
    const { count } = await this.run(() =>
      this.prisma.repository.updateMany({
        where: { id: repositoryId },
        data: { hookSecret: ciphertext, hookSecretUpdatedAt: ciphertext === null ? null : new Date() },
      }),
    );
    if (count === 0) throw new DatabaseError(DatabaseErrorCode.NotFound, `Repository ${repositoryId} not found`);
  }

  /**
   * The endpoints' secret ciphertexts in the shape the key rotation walks (`repositoryId` holds
   * the endpoint's id there); a replacement only lands if the ciphertext is still the one read.
   */
  readonly endpointSecrets = {
    listAll: async (): Promise<{ repositoryId: string; ciphertext: string }[]> => {
      const rows = await this.run(() =>
        this.prisma.webhookEndpoint.findMany({ select: { id: true, secret: true }, orderBy: { id: 'asc' } }),
      );
      return rows.map((row) => ({ repositoryId: row.id, ciphertext: row.secret }));
    },
    replaceCiphertext: async (id: string, from: string, to: string): Promise<boolean> => {
      const { count } = await this.run(() => this.prisma.webhookEndpoint.updateMany({ where: { id, secret: from }, data: { secret: to } }));
      return count === 1;
    },
  };

  /** The repositories' push-hook secret ciphertexts, for the key rotation. */
  readonly hookSecrets = {
    listAll: async (): Promise<{ repositoryId: string; ciphertext: string }[]> => {
      const rows = await this.run(() =>
        this.prisma.repository.findMany({
          where: { hookSecret: { not: null } },
          select: { id: true, hookSecret: true },
          orderBy: { id: 'asc' },
        }),
      );
      return rows.map((row) => ({ repositoryId: row.id, ciphertext: row.hookSecret! }));
    },
    replaceCiphertext: async (id: string, from: string, to: string): Promise<boolean> => {
      const { count } = await this.run(() =>
        this.prisma.repository.updateMany({ where: { id, hookSecret: from }, data: { hookSecret: to } }),
      );
      return count === 1;
    },
  };

  private async run<T>(query: () => Promise<T>): Promise<T> {
    try {
      return await query();
    } catch (error) {
      throw translateDatabaseError(error, 'Webhook not found');
    }
  }
}

import { Injectable, Logger } from '@nestjs/common';
import { randomBytes, randomUUID } from 'node:crypto';
import { AuthError, type AuthUser } from '@archiver/auth';
import { CredentialCipher } from '@archiver/credentials';
import { WebhookRepository, type WebhookEndpointRecord } from '@archiver/database';
import { UrlPolicy } from '@archiver/git';
import { QueueName, QueueRepository } from '@archiver/queue';
import { buildBody, PING_EVENT, serializeBody, vetWebhookUrl } from '@archiver/webhooks';
import type { CreateWebhookBody, ListWebhooksQuery, PageQuery, UpdateWebhookBody } from './webhook.dto';
import { webhookNotFound } from './webhook.dto';
import {
  toDeliveryView,
  toWebhookView,
  type WebhookDeliveryPageView,
  type WebhookDeliveryView,
  type WebhookPageView,
  type WebhookView,
  type WebhookWithSecretView,
} from './webhook.view';

/** 32 random bytes: as strong as the HMAC-SHA256 key can use. */
export function generateSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

/**
 * Notification endpoints: owners manage their own, admins everyone's. The URL is vetted with
 * the clones' policy before anything is written; the secret is encrypted (libs/credentials)
 * before it is stored and shown only in the answer that created or rotated it.
 */
@Injectable()
export class WebhooksService {
  private readonly logger = new Logger(WebhooksService.name);

  constructor(
    private readonly webhooks: WebhookRepository,
    private readonly cipher: CredentialCipher,
    private readonly policy: UrlPolicy,
    private readonly queues: QueueRepository,
  ) {}

  async create(body: CreateWebhookBody, user: AuthUser): Promise<WebhookWithSecretView> {
    this.assertMayCoverAll(body.allRepositories, user);
    await vetWebhookUrl(this.policy, body.url);
    const secret = body.secret ?? generateSecret();
    // The id first: the secret's ciphertext is bound to its endpoint.
    const id = randomUUID();
    const created = await this.webhooks.createEndpoint({
      id,
      ownerSubject: user.subject,
      ownerName: user.username,
      url: body.url,
      secretCiphertext: this.cipher.encrypt({ kind: 'hmac', secret }, id),
      events: body.events,
      allRepositories: body.allRepositories ?? false,
    });
    this.logger.log({ msg: 'webhook created', webhookId: created.id, events: created.events, user: user.username });
    return { ...toWebhookView(created), secret };
  }

  async list(query: ListWebhooksQuery, user: AuthUser): Promise<WebhookPageView> {
    if (query.scope === 'all' && !user.isAdmin) {
      throw AuthError.forbidden(
        `Listing everyone's webhooks (scope=all) needs the role archiver-admin, which your account (${user.username}) lacks`,
      );
    }
    const { items, total } = await this.webhooks.listEndpoints(
      query.scope === 'all' ? undefined : user.subject,
      query.page,
      query.pageSize,
    );
    return { items: items.map(toWebhookView), total, page: query.page, pageSize: query.pageSize };
  }

  async get(id: string, user: AuthUser): Promise<WebhookView> {
    return toWebhookView(await this.findVisible(id, user));
  }

  async update(id: string, body: UpdateWebhookBody, user: AuthUser): Promise<WebhookWithSecretView> {
    await this.findVisible(id, user);
    this.assertMayCoverAll(body.allRepositories, user);
    if (body.url !== undefined) await vetWebhookUrl(this.policy, body.url);
    const secret = body.rotateSecret ? generateSecret() : body.secret;
    const updated = await this.webhooks.updateEndpoint(id, {
      url: body.url,
      events: body.events,
      active: body.active,
      allRepositories: body.allRepositories,
      secretCiphertext: secret === undefined ? undefined : this.cipher.encrypt({ kind: 'hmac', secret }, id),
    });
    this.logger.log({ msg: 'webhook updated', webhookId: id, secretChanged: secret !== undefined, user: user.username });
    return body.rotateSecret ? { ...toWebhookView(updated), secret } : toWebhookView(updated);
  }

  async delete(id: string, user: AuthUser): Promise<void> {
    await this.findVisible(id, user);
    await this.webhooks.deleteEndpoint(id);
  }

  async deliveries(id: string, query: PageQuery, user: AuthUser): Promise<WebhookDeliveryPageView> {
    await this.findVisible(id, user);
    const { items, total } = await this.webhooks.listDeliveries(id, query.page, query.pageSize);
    return { items: items.map(toDeliveryView), total, page: query.page, pageSize: query.pageSize };
  }

  /** A `ping` delivery, through the same queue, signing and recording as every event. */
  async ping(id: string, user: AuthUser): Promise<WebhookDeliveryView> {
    const endpoint = await this.findVisible(id, user);
    const body = serializeBody(
      buildBody({ id: randomUUID(), event: PING_EVENT, createdAt: new Date(), repository: null, details: { endpointId: endpoint.id } }),
    );
    const [deliveryId] = await this.webhooks.createDeliveries([
      { endpointId: endpoint.id, event: PING_EVENT, repositoryId: null, archiveId: null, body },
    ]);
    await this.queues.enqueue(QueueName.WebhookDelivery, { deliveryId: deliveryId! });
    const { items } = await this.webhooks.listDeliveries(id, 1, 1);
    const created = items.find((item) => item.id === deliveryId);
    if (!created) throw webhookNotFound(id); // deleted meanwhile
    return toDeliveryView(created);
  }

  private async findVisible(id: string, user: AuthUser): Promise<WebhookEndpointRecord> {
    const endpoint = await this.webhooks.findEndpoint(id);
    if (!endpoint || (!user.isAdmin && endpoint.ownerSubject !== user.subject)) throw webhookNotFound(id);
    return endpoint;
  }

  private assertMayCoverAll(allRepositories: boolean | undefined, user: AuthUser): void {
    if (allRepositories && !user.isAdmin) {
      throw AuthError.forbidden(
        `An endpoint for every repository (allRepositories) needs the role archiver-admin, which your account (${user.username}) lacks; yours receive the events of the repositories you track`,
      );
    }
  }
}

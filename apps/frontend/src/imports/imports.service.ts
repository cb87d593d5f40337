import { Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { AuthUser } from '@archiver/auth';
import { CredentialCipher } from '@archiver/credentials';
import { ImportRepository, type ImportRecord } from '@archiver/database';
import { UrlPolicy } from '@archiver/git';
import {
  type ImportAcceptedView,
  type ImportDetailView,
  type ImportPageView,
  toImportCounts,
  toImportDetailView,
  toImportSummaryView,
} from '@archiver/imports';
import { QueueError, QueueName, QueueRepository } from '@archiver/queue';
import { vetRequestUrl } from '@archiver/webhooks';
import { ApiError } from '../api/api.error';
import { shownId } from '../api/uuid-param.pipe';
import type { CreateImportBody, ListImportsQuery } from './import.dto';

/**
 * Records an import and hands it to a worker (queue `import`): the frontend never talks to the
 * forge. The base URL passes the URL policy here, so a refused one leaves no trace; the worker
 * applies it again on every request. The token is encrypted before it is written.
 */
@Injectable()
export class ImportsService {
  private readonly logger = new Logger(ImportsService.name);

  constructor(
    private readonly policy: UrlPolicy,
    private readonly imports: ImportRepository,
    private readonly cipher: CredentialCipher,
    private readonly queues: QueueRepository,
  ) {}

  async create(body: CreateImportBody, user: AuthUser): Promise<ImportAcceptedView> {
    const target = await vetRequestUrl(this.policy, body.baseUrl, 'baseUrl');
    if (target.url.search !== '')
      throw ApiError.invalidRequest('baseUrl must not contain a query (?…): give the forge’s root, e.g. https://git.example.org');
    const id = randomUUID();
    const token = body.token === undefined ? null : this.cipher.encrypt({ kind: 'token', token: body.token }, id);
    const record = await this.imports.create(
      id,
      {
        requestedBy: user.subject,
        requestedByName: user.username,
        requestedByAdmin: user.isAdmin,
        forge: body.forge,
        baseUrl: target.url.href,
        owner: body.owner,
        include: body.include ?? null,
        exclude: body.exclude ?? null,
        includeForks: body.includeForks,
        includeArchived: body.includeArchived,
        intervalHours: body.intervalHours ?? null,
      },
      token,
    );
    try {
      await this.queues.enqueue(QueueName.Import, { importId: id });
    } catch (error) {
      // Nothing re-queues an import later: say so on the import itself, and answer 503.
      if (error instanceof QueueError) await this.imports.setState(id, 'failed', { code: error.code, message: error.message });
      throw error;
    }
    this.logger.log({ msg: 'import queued', importId: id, forge: body.forge, owner: body.owner, user: user.username });
    return { id: record.id, state: 'listing' };
  }

  async get(id: string, user: AuthUser): Promise<ImportDetailView> {
    const record = await this.findVisible(id, user);
    const [counts, items] = await Promise.all([this.imports.countByOutcome([id]), this.imports.items(id)]);
    return toImportDetailView(toImportSummaryView(record, toImportCounts(counts.get(id)), user.isAdmin), items);
  }

  /** The caller's own imports, newest first. */
  async list(query: ListImportsQuery, user: AuthUser): Promise<ImportPageView> {
    const { items, total } = await this.imports.list(user.subject, query.page, query.pageSize);
    const counts = await this.imports.countByOutcome(items.map((item) => item.id));
    return {
      items: items.map((item) => toImportSummaryView(item, toImportCounts(counts.get(item.id)), user.isAdmin)),
      total,
      page: query.page,
      pageSize: query.pageSize,
    };
  }

  /** Someone else's import answers exactly like a missing one (admins see all). */
  private async findVisible(id: string, user: AuthUser): Promise<ImportRecord> {
    const record = await this.imports.findById(id);
    if (!record || (!user.isAdmin && record.requestedBy !== user.subject)) throw importNotFound(id);
    return record;
  }
}

export function importNotFound(id: string): ApiError {
  return ApiError.notFound(`No import ${shownId(id)} of yours: check the id (GET /api/imports lists yours)`);
}

import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@archiver/config';
import { CredentialCipher, type Credential } from '@archiver/credentials';
import { ImportRepository, type ImportItemRecord, type ImportRecord, RepositoryCredentialRepository } from '@archiver/database';
import { CodedError } from '@archiver/errors';
import { UrlPolicy } from '@archiver/git';
import { assertMaySetOnTrack, type CredentialToSet, type Requester, RepositoryTracker } from '@archiver/tracking';
import { ForgePager, guardedTransport } from './forge-http';
import { forgeClients } from './forges/forge-clients';
import type { ForgeClient } from './forges/forge.types';
import type { Forge } from './import.contract';
import { ImportError, ImportErrorCode } from './import.error';
import { ImportNotifier } from './import-notifier';
import { toImportCounts } from './import.view';
import { decideOutcome } from './repository-filter';

export interface ImportRunContext {
  /** A transient failure now is final: record it instead of asking for a retry. */
  lastAttempt: boolean;
  signal: AbortSignal;
  /**
   * Runs the forge's listing (`work`) under the worker's politeness per host (a slot among
   * MAX_CLONES_PER_HOST on `baseUrl`'s host); may throw to have the job postponed.
   */
  onForge?: <T>(baseUrl: string, work: () => Promise<T>) => Promise<T>;
}

/**
 * Runs one import on a worker: lists the forge (only workers talk to the internet), records
 * every listed repository with what the filters decided, then tracks each one through
 * RepositoryTracker — POST /api/repositories's own path and limits — in the requester's name.
 * Every step can run again: a retried job lists into the same rows (unique per name) and only
 * tracks rows still pending, so nothing is tracked twice and no row is duplicated.
 */
@Injectable()
export class ImportRunner {
  private readonly logger = new Logger(ImportRunner.name);
  private readonly clients: Record<Forge, ForgeClient>;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    policy: UrlPolicy,
    private readonly imports: ImportRepository,
    private readonly cipher: CredentialCipher,
    private readonly credentials: RepositoryCredentialRepository,
    private readonly tracker: RepositoryTracker,
    private readonly notifier: ImportNotifier,
  ) {
    const limits = config.imports;
    this.clients = forgeClients(
      new ForgePager(guardedTransport(policy, { ...limits, timeoutMs: limits.requestTimeoutMs }), limits.maxPages),
    );
  }

  async run(importId: string, context: ImportRunContext): Promise<void> {
    const record = await this.imports.findById(importId);
    if (!record) {
      this.logger.warn({ msg: 'import not found; nothing to do', importId });
      return;
    }
    if (record.state === 'completed' || record.state === 'failed') return;
    const token = await this.token(record);
    try {
      if (record.state === 'listing') {
        const onForge = context.onForge ?? ((_baseUrl, work) => work());
        await onForge(record.baseUrl, () => this.list(record, token, context.signal));
      }
    } catch (error) {
      if (!CodedError.is(error) || (error.transient && !context.lastAttempt)) throw error;
      await this.finish(record, 'failed', { code: error.code, message: error.message });
      return;
    }
    for (const item of await this.imports.pendingItems(record.id)) {
      context.signal.throwIfAborted();
      await this.trackItem(record, item, token, context.lastAttempt);
    }
    await this.finish(record, 'completed');
  }

  private async list(record: ImportRecord, token: string | undefined, signal: AbortSignal): Promise<void> {
    const client = this.clients[record.forge as Forge];
    if (!client) throw new ImportError(ImportErrorCode.FORGE_RESPONSE_INVALID, `Unknown forge ${record.forge}`);
    const listed = await client.list({
      baseUrl: record.baseUrl,
      owner: record.owner,
      token,
      pageSize: this.config.imports.pageSize,
      signal,
    });
    await this.imports.addItems(
      record.id,
      listed.map((repository) => ({
        name: repository.fullName,
        url: repository.cloneUrl,
        private: repository.private,
        fork: repository.fork,
        archived: repository.archived,
        outcome: decideOutcome(repository, record),
      })),
    );
    await this.imports.setState(record.id, 'tracking');
    this.logger.log({ msg: 'forge listed', importId: record.id, repositories: listed.length });
  }

  private async trackItem(record: ImportRecord, item: ImportItemRecord, token: string | undefined, lastAttempt: boolean): Promise<void> {
    const user: Requester = {
      subject: record.requestedBy,
      username: record.requestedByName ?? record.requestedBy,
      isAdmin: record.requestedByAdmin,
    };
    try {
      assertOnForge(record.baseUrl, item.url);
      const credential = item.private && token ? this.tokenCredential(token, user) : undefined;
      const { repositoryId, existing } = await this.tracker.track(item.url, record.intervalHours ?? undefined, user, credential);
      await this.imports.settleItem(item.id, { outcome: existing ? 'already_tracked' : 'tracked', repositoryId });
    } catch (error) {
      if (!CodedError.is(error) || (error.transient && !lastAttempt)) throw error;
      await this.imports.settleItem(item.id, { outcome: 'failed', errorCode: error.code, error: error.message });
    }
  }

  /** The import's token as a private repository's credential (kind token), so later visits work. */
  private tokenCredential(token: string, user: Requester): CredentialToSet {
    return {
      assertMaySet: (repository, alreadyTracks) => assertMaySetOnTrack(repository, alreadyTracks, user),
      store: async (repositoryId) => {
        const credential: Credential = { kind: 'token', token };
        await this.credentials.set(repositoryId, {
          ciphertext: this.cipher.encrypt(credential, repositoryId),
          kind: 'token',
          setBy: user.subject,
        });
      },
    };
  }

  private async token(record: ImportRecord): Promise<string | undefined> {
    if (!record.hasToken) return undefined;
    const ciphertext = await this.imports.findTokenCiphertext(record.id);
    if (ciphertext === null) return undefined;
    const credential = this.cipher.decrypt(ciphertext, record.id);
    return credential.kind === 'token' ? credential.token : undefined;
  }

  private async finish(record: ImportRecord, state: 'completed' | 'failed', failure?: { code: string; message: string }): Promise<void> {
    await this.imports.setState(record.id, state, failure);
    const counts = toImportCounts((await this.imports.countByOutcome([record.id])).get(record.id));
    this.logger.log({ msg: 'import finished', importId: record.id, state, errorCode: failure?.code, ...counts });
    await this.notifier.importFinished(record, state, counts, failure?.code ?? null);
  }
}

/**
 * A private repository gets the import's token: its clone URL must be on the forge the token
 * belongs to (the same host, or for GitHub's `api.` host the site beside it) and use https (or
 * the base URL's own scheme), or a hostile listing could send the token anywhere.
 */
function assertOnForge(baseUrl: string, url: string): void {
  const base = new URL(baseUrl);
  let clone: URL;
  try {
    clone = new URL(url);
  } catch {
    throw new ImportError(ImportErrorCode.FORGE_RESPONSE_INVALID, `The forge listed a clone URL that is not a URL: ${url.slice(0, 200)}`);
  }
  const sameHost = clone.host === base.host || base.host === `api.${clone.host}`;
  const schemeOk = clone.protocol === 'https:' || clone.protocol === base.protocol;
  if (sameHost && schemeOk) return;
  throw new ImportError(
    ImportErrorCode.FORGE_RESPONSE_INVALID,
    `The forge listed ${clone.origin} as this repository's clone URL; only ${base.protocol}//${base.host} (or https on it) is trusted with the import`,
  );
}

import { HttpStatus, Inject, Injectable, Logger } from '@nestjs/common';
import type { AuthUser } from '@archiver/auth';
import { APP_CONFIG, type AppConfig } from '@archiver/config';
import { CredentialCipher } from '@archiver/credentials';
import { TrackedRepositoryRepository, WebhookRepository } from '@archiver/database';
import { type PushHookScheme, verifyPushHook } from '@archiver/webhooks';
import { ApiError } from '../api/api.error';
import { ArchiveRequestsService } from '../archives/archive-requests.service';

export const PushHookErrorCode = { Unauthorized: 'HOOK_UNAUTHORIZED' } as const;

/** Who push-triggered visits are recorded as: not a person, and not subject to a person's quota. */
export const PUSH_HOOK_REQUESTER: AuthUser = { subject: 'system:push-hook', username: 'push webhook', roles: [], isAdmin: true };

export interface PushHookResult {
  queued: boolean;
  /** Why nothing was queued. */
  reason?: string;
  /** The visit queued (or the one already waiting). */
  archiveId?: string;
  /** Which forge's scheme the request was verified with. */
  verifiedBy: PushHookScheme;
}

/** One answer for every refusal, so a caller learns nothing about which repositories exist or have a secret. */
export function hookUnauthorized(): ApiError {
  return new ApiError(
    HttpStatus.UNAUTHORIZED,
    PushHookErrorCode.Unauthorized,
    'The push hook is not signed with this repository’s hook secret (X-Hub-Signature-256, X-Gitea-Signature or X-Gitlab-Token)',
  );
}

/** Events a forge sends on a push; others (GitHub's `ping`, issues…) are acknowledged and ignored. */
const PUSH_EVENTS = new Set(['push', 'push hook', 'tag push hook', 'create']);
const EVENT_HEADERS = ['x-github-event', 'x-gitea-event', 'x-gogs-event', 'x-gitlab-event'];

/**
 * Push webhooks in: verified against the repository's own hook secret by the forge's scheme,
 * then a visit is queued the way POST /api/repositories/:id/visits queues one — unless one
 * was created within the cooldown, which coalesces a burst of pushes into one visit.
 */
@Injectable()
export class PushHooksService {
  private readonly logger = new Logger(PushHooksService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly webhooks: WebhookRepository,
    private readonly repositories: TrackedRepositoryRepository,
    private readonly cipher: CredentialCipher,
    private readonly archives: ArchiveRequestsService,
  ) {}

  async receive(repositoryId: string, headers: Record<string, string | string[] | undefined>, rawBody: Buffer): Promise<PushHookResult> {
    const ciphertext = await this.webhooks.findHookSecret(repositoryId);
    if (ciphertext === null) throw hookUnauthorized();
    const credential = this.cipher.decrypt(ciphertext, repositoryId);
    const verifiedBy = credential.kind === 'hmac' ? verifyPushHook(headers, rawBody, credential.secret) : null;
    if (verifiedBy === null) {
      this.logger.warn({ msg: 'push hook refused: bad or missing signature', repositoryId });
      throw hookUnauthorized();
    }
    const event = EVENT_HEADERS.map((name) => headers[name]).find((value): value is string => typeof value === 'string');
    if (event !== undefined && !PUSH_EVENTS.has(event.toLowerCase()))
      return { queued: false, reason: `not a push event (${event.slice(0, 50)})`, verifiedBy };
    const repository = await this.repositories.findById(repositoryId);
    if (!repository) throw hookUnauthorized();
    if (repository.state === 'paused') return { queued: false, reason: 'the repository is paused', verifiedBy };
    const { items } = await this.repositories.listVisits(repositoryId, 1, 1);
    const last = items[0];
    if (last && last.createdAt.getTime() + this.config.pushHooks.cooldownMs > Date.now()) {
      return {
        queued: false,
        reason: `a visit was created less than ${this.config.pushHooks.cooldownMs / 1000} s ago`,
        archiveId: last.id,
        verifiedBy,
      };
    }
    // As POST .../visits: a push proves the upstream exists again, so a disabled repository is re-enabled.
    if (repository.state === 'disabled') {
      await this.repositories.updateSettings(repositoryId, { state: 'active', stateReason: null, consecutiveFailures: 0 });
    }
    const visit = await this.archives.submit(repository.url, PUSH_HOOK_REQUESTER);
    this.logger.log({ msg: 'push hook queued a visit', repositoryId, archiveId: visit.id, verifiedBy, existing: visit.existing });
    return { queued: true, archiveId: visit.id, verifiedBy };
  }
}

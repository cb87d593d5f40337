import { Inject, Injectable, Logger } from '@nestjs/common';
import type { AuthUser } from '@archiver/auth';
import { APP_CONFIG, type AppConfig } from '@archiver/config';
import { CredentialCipher } from '@archiver/credentials';
import { TrackedRepositoryRepository, WebhookRepository } from '@archiver/database';
import { repositoryNotFound } from '../repositories/repository-id.pipe';
import { generateSecret } from '../webhooks/webhooks.service';

export interface HookSecretView {
  /** Shown this once: configure it in the forge's webhook settings. */
  secret: string;
  /** Where the forge should POST its push events. */
  hookUrl: string;
}

/** A repository's push-hook secret: generated here, encrypted before it is stored, shown once. Trackers and admins only. */
@Injectable()
export class HookSecretService {
  private readonly logger = new Logger(HookSecretService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly repositories: TrackedRepositoryRepository,
    private readonly webhooks: WebhookRepository,
    private readonly cipher: CredentialCipher,
  ) {}

  /** A new secret replaces the old one at once: hooks signed with the old one then get 401. */
  async rotate(repositoryId: string, user: AuthUser): Promise<HookSecretView> {
    await this.assertVisible(repositoryId, user);
    const secret = generateSecret();
    await this.webhooks.setHookSecret(repositoryId, this.cipher.encrypt({ kind: 'hmac', secret }, repositoryId));
    this.logger.log({ msg: 'push-hook secret set', repositoryId, user: user.username });
    return { secret, hookUrl: `${this.config.http.publicUrl}/api/hooks/push/${repositoryId}` };
  }

  async remove(repositoryId: string, user: AuthUser): Promise<void> {
    await this.assertVisible(repositoryId, user);
    await this.webhooks.setHookSecret(repositoryId, null);
    this.logger.log({ msg: 'push-hook secret removed', repositoryId, user: user.username });
  }

  private async assertVisible(id: string, user: AuthUser): Promise<void> {
    const repository = await this.repositories.findById(id);
    if (!repository || (!user.isAdmin && !(await this.repositories.isTrackedBy(id, user.subject)))) throw repositoryNotFound(id);
  }
}

import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@archiver/config';
import { CredentialCipher, CredentialError } from '@archiver/credentials';
import { WebhookRepository, type DeliveryToSend } from '@archiver/database';
import { GitError, GitErrorCode, UrlPolicy } from '@archiver/git';
import { type JobContext, PermanentJobError } from '@archiver/queue';
import { afterAttempt, type AttemptOutcome, postOnce, SIGNATURE_HEADER, signatureOf, vetWebhookUrl } from '@archiver/webhooks';

/** Thrown to have BullMQ retry the delivery after its backoff; the row says why. */
export class DeliveryAttemptFailed extends Error {
  override readonly name = 'DeliveryAttemptFailed';
}

/** Policy refusals and bad URLs do not heal by waiting; DNS trouble may. */
const PERMANENT_TARGET_CODES: ReadonlySet<string> = new Set([GitErrorCode.BLOCKED_BY_POLICY, GitErrorCode.INVALID_URL]);

/**
 * One attempt of one delivery: vet the endpoint's URL again (an allowlist or DNS may have
 * changed), sign the stored body with the endpoint's secret, POST it to the vetted address,
 * and record the outcome through the delivery state machine. The secret exists in clear only
 * in this call's memory and is never logged.
 */
@Injectable()
export class WebhookDeliveryService {
  private readonly logger = new Logger(WebhookDeliveryService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly webhooks: WebhookRepository,
    private readonly cipher: CredentialCipher,
    private readonly policy: UrlPolicy,
  ) {}

  async deliver(deliveryId: string, context: Pick<JobContext, 'lastAttempt'>): Promise<void> {
    const found = await this.webhooks.findDeliveryToSend(deliveryId);
    if (!found || found.delivery.status !== 'pending') return; // its endpoint was deleted, or it is final already
    const outcome = await this.attempt(found);
    const at = new Date();
    // A delivery whose job was lost and queued again by the reconciler starts a new job with
    // fresh attempts: the row's count keeps the total within WEBHOOK_MAX_ATTEMPTS.
    const lastAttempt = context.lastAttempt || found.delivery.attempts + 1 >= this.config.webhooks.maxAttempts;
    const step = afterAttempt(found.delivery, outcome, lastAttempt, at);
    if (!step) return;
    await this.webhooks.recordAttempt(deliveryId, step.next, at);
    const fields = { deliveryId, endpointId: found.endpoint.id, event: found.delivery.event, attempt: step.next.attempts };
    if (outcome.ok) {
      this.logger.log({ msg: 'webhook delivered', ...fields, statusCode: outcome.statusCode });
      return;
    }
    this.logger.warn({
      msg: step.retry ? 'webhook attempt failed; will retry' : 'webhook delivery failed',
      ...fields,
      error: outcome.error,
    });
    if (step.retry) throw new DeliveryAttemptFailed(outcome.error);
    throw new PermanentJobError(`delivery ${deliveryId} failed: ${outcome.error}`);
  }

  private async attempt({ delivery, endpoint }: DeliveryToSend): Promise<AttemptOutcome> {
    if (!endpoint.active) return { ok: false, statusCode: null, error: 'the endpoint was deactivated', permanent: true };
    let secret: string;
    try {
      const credential = this.cipher.decrypt(endpoint.secretCiphertext, endpoint.id);
      if (credential.kind !== 'hmac') throw new Error('the stored secret is not a webhook secret');
      secret = credential.secret;
    } catch (error) {
      const message = error instanceof CredentialError ? `${error.code}: ${error.message}` : (error as Error).message;
      return { ok: false, statusCode: null, error: `cannot sign: ${message}`, permanent: true };
    }
    let target;
    try {
      target = await vetWebhookUrl(this.policy, endpoint.url);
    } catch (error) {
      if (!(error instanceof GitError)) throw error;
      return { ok: false, statusCode: null, error: `${error.code}: ${error.message}`, permanent: PERMANENT_TARGET_CODES.has(error.code) };
    }
    const body = Buffer.from(delivery.body, 'utf8');
    const headers = {
      'X-Archiver-Event': delivery.event,
      'X-Archiver-Delivery': delivery.id,
      [SIGNATURE_HEADER]: signatureOf(secret, body),
    };
    return postOnce(target, body, headers, this.config.webhooks.timeoutMs);
  }
}

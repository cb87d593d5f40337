import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { APP_CONFIG, AppConfig } from '@archiver/config';
import { GitError, GitErrorCode } from '@archiver/git';
import { RetryLaterError } from '@archiver/queue';
import { hostKeyOf } from './host-key';
import { HostSlot } from './host-slot';
import { HostSlotsRepository } from './host-slots.repository';
import { PolitenessMetrics } from './politeness-metrics';
import { parseRetryAfter } from './retry-after';

/**
 * A host's request to slow down: a GitError RATE_LIMITED, or what a forge API client saw (its
 * message, and the Retry-After header as sent).
 */
export interface HostRefusal {
  readonly message: string;
  readonly retryAfter?: string;
}

/** How soon a visit whose host is full looks again; jittered so waiting visits do not come back in step. */
const BUSY_RETRY_MS = { min: 1_000, jitter: 2_000 };
/** Spreads the visits of a host that was backing off over a moment instead of all at its end. */
const BACKOFF_JITTER_MS = 1_000;
/** The least a job is delayed by: a Retry-After of 0 still goes through the queue once. */
const MIN_DELAY_MS = 1_000;

/**
 * Politeness per upstream host, across every worker on every machine (HostSlotsRepository in
 * Redis): at most `MAX_CLONES_PER_HOST` operations on a host at once, and none while the host
 * backs us off. A visit that cannot go now is not waited for here: it gets a RetryLaterError and
 * goes back to the queue delayed (ArchiverProcessor), so it holds no worker slot and uses no attempt.
 */
@Injectable()
export class HostPoliteness {
  private readonly logger = new Logger(HostPoliteness.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly slots: HostSlotsRepository,
    private readonly metrics: PolitenessMetrics,
  ) {}

  /**
   * A slot on the host of `url`, to hold over the operations that contact it and release after.
   * Throws RetryLaterError when the host is full or backing off. Null when the URL names no host
   * (malformed): nothing is contacted then, and the URL policy says what is wrong with it.
   */
  async enter(url: string): Promise<HostSlot | null> {
    const host = keyOrNull(url);
    if (host === null) return null;
    const { maxPerHost: max, slotLeaseMs: leaseMs } = this.config.politeness;
    // Whose slot it is, for operators (and tests) reading Redis: machine, process, then unique.
    const token = `${hostname()}:${process.pid}:${randomUUID()}`;
    const answer = await this.slots.tryAcquire(host, token, max, leaseMs);
    if (answer.acquired) return new HostSlot(this.slots, this.metrics, host, token, { max, leaseMs });
    this.metrics.waited(answer.reason);
    if (answer.reason === 'backoff') {
      throw new RetryLaterError(
        `the upstream host ${host} asked to slow down; waiting ${Math.ceil(answer.waitMs / 1000)} s`,
        Math.max(MIN_DELAY_MS, answer.waitMs + Math.floor(Math.random() * BACKOFF_JITTER_MS)),
      );
    }
    throw new RetryLaterError(
      `the upstream host ${host} already has ${max} operations of the archiver running`,
      BUSY_RETRY_MS.min + Math.floor(Math.random() * BUSY_RETRY_MS.jitter),
    );
  }

  /**
   * Runs `work` holding a slot on the host of `url` (e.g. an LFS fetch, a forge API listing). A
   * RATE_LIMITED error from it backs the host off; both that and a full host end in a
   * RetryLaterError the caller's job should let through.
   */
  async withHostSlot<T>(url: string, work: () => Promise<T>): Promise<T> {
    const slot = await this.enter(url);
    try {
      return await work();
    } catch (error) {
      if (GitError.isGitError(error, GitErrorCode.RATE_LIMITED)) throw await this.backOff(url, error);
      throw error;
    } finally {
      await slot?.release();
    }
  }

  /**
   * Records that the host of `url` asked us to slow down (its Retry-After, capped; otherwise the
   * default exponential schedule), so every worker leaves it alone until then. Returns the error
   * that postpones the job that met the refusal.
   */
  async backOff(url: string, refusal: HostRefusal): Promise<RetryLaterError> {
    const host = hostKeyOf(url);
    const { backoffMinMs, backoffMaxMs } = this.config.politeness;
    const asked = parseRetryAfter(refusal.retryAfter, new Date(), backoffMaxMs);
    const waitMs = await this.slots.backOff(host, asked, backoffMinMs, backoffMaxMs);
    this.metrics.backedOff(asked === null ? 'default' : 'retry_after');
    this.logger.warn({ msg: 'upstream host asked to slow down; backing it off', host, retryAfter: refusal.retryAfter, waitMs });
    return new RetryLaterError(`${refusal.message} (waiting ${Math.ceil(waitMs / 1000)} s)`, Math.max(MIN_DELAY_MS, waitMs), {
      cause: refusal,
    });
  }
}

function keyOrNull(url: string): string | null {
  try {
    return hostKeyOf(url) || null;
  } catch {
    return null;
  }
}

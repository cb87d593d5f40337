import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@archiver/config';
import { OperationsRepository } from '@archiver/database';
import { TrackingError, TrackingErrorCode } from './tracking.error';

/** Who asks for work: a signed-in user (AuthUser fits), or the user an import runs for. */
export interface Requester {
  subject: string;
  username: string;
  isAdmin: boolean;
}

/**
 * Per-user quotas checked before new work is recorded; admins have none, and 0 means none.
 * Shared by the API and the worker's imports, so an import counts exactly like POST /api/repositories.
 */
@Injectable()
export class TrackingLimits {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly usage: OperationsRepository,
  ) {}

  /** Before a new archive: the user's completed archives must not hold the quota already. */
  async assertStorageLeft(user: Requester): Promise<void> {
    const quota = this.config.limits.storedBytesQuota;
    if (user.isAdmin || quota === 0) return;
    const used = await this.usage.storedBytesOf(user.subject);
    if (used < quota) return;
    throw new TrackingError(
      TrackingErrorCode.QUOTA_EXCEEDED,
      `Your archives hold ${formatBytes(used)}, your quota is ${formatBytes(quota)}: delete some of your archives, or ask an administrator for more`,
    );
  }

  /** Before the user tracks one more repository. */
  async assertCanTrackMore(user: Requester): Promise<void> {
    const limit = this.config.limits.maxTrackedRepositories;
    if (user.isAdmin || limit === 0) return;
    if ((await this.usage.trackedBy(user.subject)) < limit) return;
    throw new TrackingError(
      TrackingErrorCode.TRACKED_LIMIT,
      `You track ${limit} repositories, the most allowed: stop tracking one (DELETE /api/repositories/:id), or ask an administrator for more`,
    );
  }
}

function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

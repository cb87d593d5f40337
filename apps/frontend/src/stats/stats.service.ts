import { Injectable } from '@nestjs/common';
import type { AuthUser } from '@archiver/auth';
import { ArchiveRepository } from '@archiver/database';
import { StatsView, toStatsView } from './stats.view';

@Injectable()
export class StatsService {
  constructor(private readonly archives: ArchiveRepository) {}

  /** A user's own numbers; an admin's cover everyone, like the archive list. */
  async forUser(user: AuthUser): Promise<StatsView> {
    return toStatsView(await this.archives.stats(user.isAdmin ? undefined : user.subject));
  }
}

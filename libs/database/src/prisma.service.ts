import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import { APP_CONFIG, AppConfig } from '@archiver/config';
import { PrismaClient } from './generated/prisma/client';

/**
 * The one Prisma client of a process. It connects lazily on first query, so an app whose
 * database is down still starts and reports it through /health instead of crash-looping.
 */
@Injectable()
export class PrismaService extends PrismaClient implements OnModuleDestroy {
  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    super({
      // Any other format captures a stack trace (new Error) on every query, to point a pretty
      // message at the caller's line: the single largest function of Prisma's in a profile of
      // POST /api/archives. Errors are mapped by their codes (database.error.ts), not by that text.
      errorFormat: 'minimal',
      adapter: new PrismaPg({ connectionString: config.database.url, max: 10, connectionTimeoutMillis: 5000 }),
    });
  }

  async onModuleDestroy(): Promise<void> {
    await this.$disconnect();
  }

  async ping(): Promise<boolean> {
    try {
      await this.$queryRaw`SELECT 1`;
      return true;
    } catch {
      return false;
    }
  }
}

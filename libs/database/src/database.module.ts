import { Global, Injectable, Module } from '@nestjs/common';
import type { HealthIndicator } from '@archiver/health';
import { ArchiveRepository } from './archive.repository';
import { PrismaService } from './prisma.service';
import { TrackedRepositoryRepository } from './repository.repository';

@Injectable()
export class PostgresHealthIndicator implements HealthIndicator {
  constructor(private readonly prisma: PrismaService) {}
  check(): Promise<boolean> {
    return this.prisma.ping();
  }
}

@Global()
@Module({
  providers: [PrismaService, ArchiveRepository, TrackedRepositoryRepository, PostgresHealthIndicator],
  exports: [PrismaService, ArchiveRepository, TrackedRepositoryRepository, PostgresHealthIndicator],
})
export class DatabaseModule {}

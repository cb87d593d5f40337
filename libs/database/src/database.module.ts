import { Global, Injectable, Module } from '@nestjs/common';
import type { HealthIndicator } from '@archiver/health';
import { ArchiveCredentialRepository } from './archive-credential.repository';
import { ArchiveRepository } from './archive.repository';
import { AuditRepository } from './audit.repository';
import { ImportRepository } from './import.repository';
import { OperationsRepository } from './operations.repository';
import { PrismaService } from './prisma.service';
import { RefChangeRepository } from './ref-change.repository';
import { RepositoryCredentialRepository } from './repository-credential.repository';
import { TrackedRepositoryRepository } from './repository.repository';
import { RetentionRepository } from './retention.repository';
import { VerificationRepository } from './verification.repository';
import { WebhookRepository } from './webhook.repository';

@Injectable()
export class PostgresHealthIndicator implements HealthIndicator {
  constructor(private readonly prisma: PrismaService) {}
  check(): Promise<boolean> {
    return this.prisma.ping();
  }
}

@Global()
@Module({
  providers: [
    PrismaService,
    ArchiveRepository,
    TrackedRepositoryRepository,
    RepositoryCredentialRepository,
    ArchiveCredentialRepository,
    RefChangeRepository,
    VerificationRepository,
    OperationsRepository,
    AuditRepository,
    RetentionRepository,
    WebhookRepository,
    ImportRepository,
    PostgresHealthIndicator,
  ],
  exports: [
    PrismaService,
    ArchiveRepository,
    TrackedRepositoryRepository,
    RepositoryCredentialRepository,
    ArchiveCredentialRepository,
    RefChangeRepository,
    VerificationRepository,
    OperationsRepository,
    AuditRepository,
    RetentionRepository,
    WebhookRepository,
    ImportRepository,
    PostgresHealthIndicator,
  ],
})
export class DatabaseModule {}

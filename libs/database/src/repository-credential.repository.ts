import { Injectable } from '@nestjs/common';
import { DatabaseError, DatabaseErrorCode, translateDatabaseError } from './database.error';
import { PrismaService } from './prisma.service';

/** A repository's stored credential: the ciphertext only (libs/credentials encrypts and decrypts). */
export interface StoredCredential {
  ciphertext: string;
  kind: string;
  updatedAt: Date | null;
  lastUsedAt: Date | null;
}

/**
 * The only code that reads or writes a repository's credential columns, so the ciphertext never
 * travels with the repository records the API and the scheduler pass around.
 */
@Injectable()
export class RepositoryCredentialRepository {
  constructor(private readonly prisma: PrismaService) {}

  async find(repositoryId: string): Promise<StoredCredential | null> {
    const row = await this.run(() =>
      this.prisma.repository.findUnique({
        where: { id: repositoryId },
        select: { credential: true, credentialKind: true, credentialUpdatedAt: true, credentialLastUsedAt: true },
      }),
    );
    if (!row?.credential || !row.credentialKind) return null;
    return {
      ciphertext: row.credential,
      kind: row.credentialKind,
      updatedAt: row.credentialUpdatedAt,
      lastUsedAt: row.credentialLastUsedAt,
    };
  }

  /** Sets (or, with null, removes) the credential; a new one has not been used yet. */
  async set(repositoryId: string, credential: { ciphertext: string; kind: string } | null): Promise<void> {
    const data = credential
      ? { credential: credential.ciphertext, credentialKind: credential.kind, credentialUpdatedAt: new Date(), credentialLastUsedAt: null }
      : { credential: null, credentialKind: null, credentialUpdatedAt: new Date(), credentialLastUsedAt: null };
    const { count } = await this.run(() => this.prisma.repository.updateMany({ where: { id: repositoryId }, data }));
    if (count === 0) throw new DatabaseError(DatabaseErrorCode.NotFound, `Repository ${repositoryId} not found`);
  }

  /** A visit handed the credential to git. */
  async markUsed(repositoryId: string, at = new Date()): Promise<void> {
    await this.run(() =>
      this.prisma.repository.updateMany({ where: { id: repositoryId, credential: { not: null } }, data: { credentialLastUsedAt: at } }),
    );
  }

  /** Every stored ciphertext, for re-encryption under a new key (the rotation command). */
  async listAll(): Promise<{ repositoryId: string; ciphertext: string }[]> {
    const rows = await this.run(() =>
      this.prisma.repository.findMany({
        where: { credential: { not: null } },
        select: { id: true, credential: true },
        orderBy: { id: 'asc' },
      }),
    );
    return rows.map((row) => ({ repositoryId: row.id, ciphertext: row.credential! }));
  }

  /** Replaces a ciphertext only if it is still the one read (a concurrent PATCH wins); true when replaced. */
  async replaceCiphertext(repositoryId: string, from: string, to: string): Promise<boolean> {
    const { count } = await this.run(() =>
      this.prisma.repository.updateMany({ where: { id: repositoryId, credential: from }, data: { credential: to } }),
    );
    return count === 1;
  }

  private async run<T>(query: () => Promise<T>): Promise<T> {
    try {
      return await query();
    } catch (error) {
      throw translateDatabaseError(error, 'Repository not found');
    }
  }
}

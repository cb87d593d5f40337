import { Injectable } from '@nestjs/common';
import { DatabaseError, DatabaseErrorCode, translateDatabaseError } from './database.error';
import { PrismaService } from './prisma.service';

/** A repository's stored credential: the ciphertext only (libs/credentials encrypts and decrypts). */
export interface StoredCredential {
  ciphertext: string;
  kind: string;
  updatedAt: Date | null;
  lastUsedAt: Date | null;
  /** The pinned SSH host keys (public, so kept in clear); null until given or pinned at first use. */
  sshHostKey: string | null;
}

/** Who sets a credential and what goes with it. */
export interface CredentialChange {
  ciphertext: string;
  kind: string;
  /** The subject setting it: granted content access once a visit with this credential succeeds. */
  setBy: string;
  /** For kind ssh: replaces the pinned host key (null: pin again at the next visit); undefined keeps it. */
  sshHostKey?: string | null;
}

/**
 * The only code that reads or writes a repository's credential columns, so the ciphertext never
 * travels with the repository records the API and the scheduler pass around.
 */
@Injectable()
export class RepositoryCredentialRepository {
  constructor(private readonly prisma: PrismaService) {}

  async find(repositoryId: string): Promise<StoredCredential | null> {
    const rows = await this.run(
      () => this.prisma.$queryRaw<CredentialRow[]>`
        SELECT credential, credential_kind, credential_updated_at, credential_last_used_at, ssh_host_key
        FROM repository WHERE id = ${repositoryId}::uuid`,
    );
    const row = rows[0];
    if (!row?.credential || !row.credential_kind) return null;
    return {
      ciphertext: row.credential,
      kind: row.credential_kind,
      updatedAt: row.credential_updated_at,
      lastUsedAt: row.credential_last_used_at,
      sshHostKey: row.ssh_host_key,
    };
  }

  /**
   * Sets (or, with null, removes) the credential; a new one has not been used yet. Removing it
   * also forgets the pinned host key; the time of the change stays, marking the repository as
   * one whose content may hold private data (see mayReadContent).
   */
  async set(repositoryId: string, credential: CredentialChange | null): Promise<void> {
    const hostKeyGiven = credential === null || credential.sshHostKey !== undefined;
    const hostKey = credential === null ? null : (credential.sshHostKey ?? null);
    const count = await this.run(
      () => this.prisma.$executeRaw`
        UPDATE repository SET
          credential = ${credential?.ciphertext ?? null},
          credential_kind = ${credential?.kind ?? null},
          credential_set_by = ${credential?.setBy ?? null},
          credential_updated_at = now(),
          credential_last_used_at = NULL,
          ssh_host_key = CASE WHEN ${hostKeyGiven} THEN ${hostKey} ELSE ssh_host_key END
        WHERE id = ${repositoryId}::uuid`,
    );
    if (count === 0) throw new DatabaseError(DatabaseErrorCode.NotFound, `Repository ${repositoryId} not found`);
  }

  /** Trust on first use: stores the scanned host key unless one was pinned meanwhile; false then. */
  async pinSshHostKey(repositoryId: string, hostKey: string): Promise<boolean> {
    const count = await this.run(
      () => this.prisma.$executeRaw`
        UPDATE repository SET ssh_host_key = ${hostKey} WHERE id = ${repositoryId}::uuid AND ssh_host_key IS NULL`,
    );
    return count === 1;
  }

  /**
   * A visit with `ciphertext` succeeded: whoever set that very credential (not a later one)
   * has shown they can reach the upstream, and may read the repository's content from now on.
   */
  async grantContentAccess(repositoryId: string, ciphertext: string): Promise<void> {
    await this.run(
      () => this.prisma.$executeRaw`
        UPDATE repository_tracker t SET content_access = true
        FROM repository r
        WHERE r.id = ${repositoryId}::uuid AND t.repository_id = r.id AND r.credential = ${ciphertext}
          AND t.user_subject = r.credential_set_by AND NOT t.content_access`,
    );
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

interface CredentialRow {
  credential: string | null;
  credential_kind: string | null;
  credential_updated_at: Date | null;
  credential_last_used_at: Date | null;
  ssh_host_key: string | null;
}

import { Injectable } from '@nestjs/common';
import { translateDatabaseError } from './database.error';
import { PrismaService } from './prisma.service';

/** A one-off archive's own credential: the ciphertext only (libs/credentials encrypts and decrypts). */
export interface StoredArchiveCredential {
  ciphertext: string;
  kind: string;
  /** For kind ssh: the host keys given with it; null: the server's key is pinned for this clone only. */
  sshHostKey: string | null;
}

export interface ArchiveCredentialChange {
  ciphertext: string;
  kind: string;
  sshHostKey?: string | null;
}

/**
 * The only code that reads or writes `archive_credential`: the credential given with one
 * POST /api/archives, for that archive's clone alone. Its ciphertext is handed out only while the
 * archive is unfinished and dropped after (`dropFinished`); the kind stays as the record that the
 * requester reached the upstream with a credential of their own.
 */
@Injectable()
export class ArchiveCredentialRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * Stores it and marks the repository's content as possibly private (as a repository credential
   * does: `credential_updated_at`), so that trackers who never proved access do not get to read
   * what this credential fetched.
   */
  async set(archiveId: string, credential: ArchiveCredentialChange): Promise<void> {
    await this.run(() =>
      this.prisma.$transaction([
        this.prisma.$executeRaw`
          INSERT INTO archive_credential (archive_id, credential, credential_kind, ssh_host_key)
          VALUES (${archiveId}::uuid, ${credential.ciphertext}, ${credential.kind}, ${credential.sshHostKey ?? null})
          ON CONFLICT (archive_id) DO UPDATE SET credential = EXCLUDED.credential, credential_kind = EXCLUDED.credential_kind,
            ssh_host_key = EXCLUDED.ssh_host_key`,
        this.prisma.$executeRaw`
          UPDATE repository r SET credential_updated_at = COALESCE(r.credential_updated_at, now())
          FROM archive a WHERE a.id = ${archiveId}::uuid AND r.id = a.repository_id`,
      ]),
    );
  }

  /** The credential for a run of the archive; null when it has none, or has finished. */
  async findForRun(archiveId: string): Promise<StoredArchiveCredential | null> {
    const rows = await this.run(
      () => this.prisma.$queryRaw<{ credential: string; credential_kind: string; ssh_host_key: string | null }[]>`
        SELECT c.credential, c.credential_kind, c.ssh_host_key
        FROM archive_credential c JOIN archive a ON a.id = c.archive_id
        WHERE c.archive_id = ${archiveId}::uuid AND c.credential IS NOT NULL AND a.status NOT IN ('completed', 'failed')`,
    );
    const row = rows[0];
    return row ? { ciphertext: row.credential, kind: row.credential_kind, sshHostKey: row.ssh_host_key } : null;
  }

  /** The kind of credential the archive was made with (also after it finished); null: none of its own. */
  async kindOf(archiveId: string): Promise<string | null> {
    const row = await this.run(() => this.prisma.archiveCredential.findUnique({ where: { archiveId }, select: { credentialKind: true } }));
    return row?.credentialKind ?? null;
  }

  /**
   * Drops the ciphertexts of finished archives: nothing will use them again. Called at the start
   * of every visit and with every new one, so none outlives its archive for long.
   */
  async dropFinished(): Promise<number> {
    return this.run(
      () => this.prisma.$executeRaw`
        UPDATE archive_credential c SET credential = NULL
        FROM archive a WHERE a.id = c.archive_id AND c.credential IS NOT NULL AND a.status IN ('completed', 'failed')`,
    );
  }

  private async run<T>(query: () => Promise<T>): Promise<T> {
    try {
      return await query();
    } catch (error) {
      throw translateDatabaseError(error, 'Archive not found');
    }
  }
}

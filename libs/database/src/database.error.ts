import { CodedError } from '@archiver/errors';

export enum DatabaseErrorCode {
  Unavailable = 'DATABASE_UNAVAILABLE',
  NotFound = 'NOT_FOUND',
  Conflict = 'CONFLICT',
  Failed = 'DATABASE_FAILED',
}

/** Prisma's error codes that the repository translates (https://www.prisma.io/docs/orm/reference/error-reference). */
export const PrismaCode = {
  UniqueViolation: 'P2002',
  RecordNotFound: 'P2025',
} as const;

export class DatabaseError extends CodedError<DatabaseErrorCode> {
  override readonly name = 'DatabaseError';
  readonly domain = 'database';

  constructor(code: DatabaseErrorCode, message: string, options?: { cause?: unknown }) {
    // Connection failures are worth retrying; constraint violations are not.
    super(code, message, { cause: options?.cause, transient: code === DatabaseErrorCode.Unavailable });
  }
}

function isPrismaCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}

/** Maps a Prisma or driver error to a DatabaseError; `notFound` names the missing record. */
export function translateDatabaseError(error: unknown, notFound: string): Error {
  if (error instanceof DatabaseError) return error;
  if (isPrismaCode(error, PrismaCode.RecordNotFound)) return new DatabaseError(DatabaseErrorCode.NotFound, notFound, { cause: error });
  const message = error instanceof Error ? error.message : String(error);
  if (/ECONNREFUSED|ETIMEDOUT|Can't reach database|Connection terminated|timeout exceeded|ENOTFOUND|P1001|P1017/i.test(message)) {
    return new DatabaseError(DatabaseErrorCode.Unavailable, 'The database is unavailable; try again shortly', { cause: error });
  }
  return new DatabaseError(DatabaseErrorCode.Failed, `Database query failed: ${message}`, { cause: error });
}

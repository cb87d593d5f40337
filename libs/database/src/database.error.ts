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

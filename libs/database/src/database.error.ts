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

export class DatabaseError extends Error {
  constructor(
    readonly code: DatabaseErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DatabaseError';
  }

  /** Connection failures are worth retrying; constraint violations are not. */
  get transient(): boolean {
    return this.code === DatabaseErrorCode.Unavailable;
  }
}

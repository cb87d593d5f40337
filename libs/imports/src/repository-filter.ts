import { posix } from 'node:path';
import type { ImportOutcome } from './import.contract';
import { ImportError, ImportErrorCode } from './import.error';
import type { ForgeRepository } from './forges/forge.types';

export const MAX_GLOB_LENGTH = 256;

export interface ImportFilters {
  include?: string | null;
  exclude?: string | null;
  includeForks: boolean;
  includeArchived: boolean;
}

/**
 * Checks a glob before it is stored. Matching is Node's own `path.matchesGlob` (the minimatch
 * rules: `*`, `**`, `?`, `[…]`, `{a,b}`); neither picomatch nor minimatch is a dependency here.
 */
export function assertValidGlob(name: string, glob: string): void {
  if (glob.length === 0 || glob.length > MAX_GLOB_LENGTH) {
    throw new ImportError(ImportErrorCode.INVALID_GLOB, `${name} must be a glob of 1 to ${MAX_GLOB_LENGTH} characters, e.g. "api-*"`);
  }
  if (/[\u0000-\u001f\u007f]/.test(glob))
    throw new ImportError(ImportErrorCode.INVALID_GLOB, `${name} must not contain control characters`);
  try {
    posix.matchesGlob('probe', glob);
  } catch (error) {
    throw new ImportError(ImportErrorCode.INVALID_GLOB, `${name} is not a usable glob: ${(error as Error).message}`);
  }
}

/** Globs match the path below the owner (`api`, `sub/api`), ignoring case as forges do for names. */
export function matchesGlob(path: string, glob: string): boolean {
  return posix.matchesGlob(path.toLowerCase(), glob.toLowerCase());
}

/**
 * What the import does with a listed repository before tracking anything: forks and archived
 * repositories are left out unless asked for, then include must match and exclude must not.
 * `pending` means: track it.
 */
export function decideOutcome(repository: ForgeRepository, filters: ImportFilters): ImportOutcome {
  if (repository.fork && !filters.includeForks) return 'skipped_fork';
  if (repository.archived && !filters.includeArchived) return 'skipped_archived';
  if (filters.include && !matchesGlob(repository.relativePath, filters.include)) return 'excluded';
  if (filters.exclude && matchesGlob(repository.relativePath, filters.exclude)) return 'excluded';
  return 'pending';
}

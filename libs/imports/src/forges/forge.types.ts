import { ImportError, ImportErrorCode } from '../import.error';

/** One repository as a forge lists it, in the shape every forge client returns. */
export interface ForgeRepository {
  /** owner/name (GitLab: group/sub/name). */
  fullName: string;
  /** The path below the owner that include/exclude globs match (name, or sub/name). */
  relativePath: string;
  /** The http(s) clone URL. */
  cloneUrl: string;
  private: boolean;
  fork: boolean;
  archived: boolean;
}

export interface ForgeListRequest {
  baseUrl: string;
  owner: string;
  token?: string;
  pageSize: number;
  signal?: AbortSignal;
}

/** Lists every repository of a user or an organization through the forge's REST API. */
export interface ForgeClient {
  list(request: ForgeListRequest): Promise<ForgeRepository[]>;
}

/** The base URL with exactly one trailing slash, so relative API paths append to it. */
export function apiRoot(baseUrl: string): URL {
  const url = new URL(baseUrl);
  url.search = '';
  url.hash = '';
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}

/** Reads a field of a listed repository, failing clearly when the forge's answer lacks it. */
export function field<T>(item: unknown, name: string, check: (value: unknown) => value is T, where: string): T {
  const value = typeof item === 'object' && item !== null ? (item as Record<string, unknown>)[name] : undefined;
  if (check(value)) return value;
  throw new ImportError(ImportErrorCode.FORGE_RESPONSE_INVALID, `${where} listed a repository without a valid "${name}"`);
}

export const isString = (value: unknown): value is string => typeof value === 'string' && value.length > 0;
export const isBoolean = (value: unknown): value is boolean => typeof value === 'boolean';

/** The path below the owner: `org/sub/name` → `sub/name` (case-insensitively, as forges treat owners). */
export function relativeTo(owner: string, fullName: string): string {
  const prefix = `${owner.replace(/\/+$/, '')}/`;
  return fullName.toLowerCase().startsWith(prefix.toLowerCase()) ? fullName.slice(prefix.length) : fullName;
}

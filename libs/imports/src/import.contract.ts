/**
 * The REST contract of organization imports (POST/GET /api/imports), shared by the API and the
 * web interface. Never rename a value: clients match on them.
 */

export const FORGES = ['gitea', 'gitlab', 'github'] as const;
export type Forge = (typeof FORGES)[number];

/** listing (a worker pages through the forge) → tracking (each repository) → completed | failed. */
export const IMPORT_STATES = ['listing', 'tracking', 'completed', 'failed'] as const;
export type ImportState = (typeof IMPORT_STATES)[number];

/** What happened to one listed repository; `pending` until the import gets to it. */
export const IMPORT_OUTCOMES = ['pending', 'tracked', 'already_tracked', 'skipped_fork', 'skipped_archived', 'excluded', 'failed'] as const;
export type ImportOutcome = (typeof IMPORT_OUTCOMES)[number];

/** The body of POST /api/imports. */
export interface ImportRequest {
  forge: Forge;
  /** Gitea and GitLab: the server's root (https://git.example.org); GitHub: the API root (https://api.github.com). */
  baseUrl: string;
  /** The user or organization (GitLab: group path, subgroups included). */
  owner: string;
  /** Sent to the forge's API and kept (encrypted) as private repositories' credential; never returned. */
  token?: string;
  /** Glob over the repository's path below the owner (e.g. `api-*`, `{web,docs}`); case-insensitive. */
  include?: string;
  exclude?: string;
  includeForks?: boolean;
  includeArchived?: boolean;
  /** A pinned visit interval for every tracked repository, as POST /api/repositories. */
  intervalHours?: number;
}

/** 202 answer of POST /api/imports. */
export interface ImportAcceptedView {
  id: string;
  state: ImportState;
}

export interface ImportItemView {
  /** The forge's full name (owner/name, or group/sub/name). */
  name: string;
  url: string;
  private: boolean;
  fork: boolean;
  archived: boolean;
  outcome: ImportOutcome;
  /** Set when outcome is failed (e.g. TRACKED_LIMIT, BLOCKED_BY_POLICY). */
  errorCode: string | null;
  error: string | null;
  /** The tracked repository (GET /api/repositories/:id) once tracked or already tracked. */
  repositoryId: string | null;
}

export type ImportCounts = Record<ImportOutcome, number> & { total: number };

export interface ImportSummaryView {
  id: string;
  forge: Forge;
  baseUrl: string;
  owner: string;
  include: string | null;
  exclude: string | null;
  includeForks: boolean;
  includeArchived: boolean;
  intervalHours: number | null;
  /** Whether a token was given; the token itself is never shown. */
  hasToken: boolean;
  state: ImportState;
  /** Set when state is failed: e.g. FORGE_AUTH_FAILED, FORGE_NOT_FOUND, BLOCKED_BY_POLICY. */
  errorCode: string | null;
  error: string | null;
  counts: ImportCounts;
  requestedBy: string | null;
  createdAt: string;
  finishedAt: string | null;
}

/** GET /api/imports/:id */
export interface ImportDetailView extends ImportSummaryView {
  items: ImportItemView[];
}

/** GET /api/imports */
export interface ImportPageView {
  items: ImportSummaryView[];
  total: number;
  page: number;
  pageSize: number;
}

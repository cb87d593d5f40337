// Words for an import's states, outcomes and error codes (libs/imports/src/import.contract.ts),
// shared by the imports list and an import's detail page.

export const IMPORT_ACTIVE_STATES = new Set(['listing', 'tracking']);

export const IMPORT_STATE_LABELS = {
  listing: 'Listing repositories',
  tracking: 'Tracking repositories',
  completed: 'Completed',
  failed: 'Failed',
};

/** Badge colours reuse the archive statuses' classes (app.css). */
export const IMPORT_STATE_BADGES = { listing: 'running', tracking: 'running', completed: 'completed', failed: 'failed' };

export const IMPORT_OUTCOME_LABELS = {
  pending: 'Pending',
  tracked: 'Tracked',
  already_tracked: 'Already tracked',
  skipped_fork: 'Skipped (fork)',
  skipped_archived: 'Skipped (archived)',
  excluded: 'Excluded by your globs',
  failed: 'Failed',
};

export const IMPORT_OUTCOME_BADGES = {
  pending: 'pending',
  tracked: 'completed',
  already_tracked: 'completed',
  skipped_fork: 'queued',
  skipped_archived: 'queued',
  excluded: 'queued',
  failed: 'failed',
};

/** What a person can do about each code the forge or the archiver answers with. */
const ADVICE = {
  FORGE_AUTH_FAILED:
    'The forge refused the token. Check that it is valid, not expired, and allowed to read the owner’s repositories; then import again with a new token.',
  FORGE_NOT_FOUND:
    'The forge has no such user or organization at that address (or the token may not see it). Check the base URL and the owner’s name.',
  BLOCKED_BY_POLICY: 'The archiver’s network policy does not allow that address. Use a public forge address, or ask an administrator.',
  TRACKED_LIMIT: 'You reached the number of repositories you may track. Untrack some, or ask an administrator for a higher limit.',
};

/** The server's message, preceded by advice when the code is one we know. */
export function importErrorText(code, message) {
  const advice = code ? ADVICE[code] : undefined;
  if (!advice) return message ?? code ?? 'Something went wrong.';
  return message ? `${advice} (${code}: ${message})` : `${advice} (${code})`;
}

// What a tracked repository and each of its visits look like on screen: the state badge, a
// visit's outcome, and the marks for history that upstream rewrote or removed.
import { h } from './dom.js';
import { ACTIVE_STATUSES } from './format.js';

export const REPOSITORY_BADGES = {
  'up-to-date': 'Up to date',
  changed: 'Changed',
  failing: 'Failing',
  visiting: 'Visiting',
  new: 'Not visited yet',
  paused: 'Paused',
  disabled: 'Disabled',
};

/** The states the list filters by (the API's `state`). */
export const REPOSITORY_STATES = { active: 'Active', paused: 'Paused', disabled: 'Disabled' };

/**
 * One word for a repository: paused and disabled say so; an active one is described by its
 * newest visit, since that is what a person wants to know ("is my copy current?").
 */
export function repositoryBadgeKind(repository) {
  if (repository.state === 'paused' || repository.state === 'disabled') return repository.state;
  const last = repository.lastVisit;
  if (!last) return 'new';
  if (ACTIVE_STATUSES.has(last.status)) return 'visiting';
  if (last.status === 'failed') return 'failing';
  return last.outcome === 'unchanged' ? 'up-to-date' : 'changed';
}

export function repositoryBadge(repository) {
  const kind = repositoryBadgeKind(repository);
  return h(
    'span',
    { class: `badge badge-repo-${kind}`, 'data-state': kind, 'data-testid': 'repository-badge' },
    h('span', { class: 'badge-dot', 'aria-hidden': 'true' }),
    REPOSITORY_BADGES[kind],
  );
}

/** Why it is paused or disabled (who paused it; the failure that disabled it), if anyone said. */
export function stateReason(repository) {
  if (repository.state === 'active' || !repository.stateReason) return null;
  return h('span', { class: 'state-reason', 'data-testid': 'state-reason' }, repository.stateReason);
}

/** A visit (an archive of the repository): changed / unchanged / failed / in progress. */
export function visitOutcomeKind(visit) {
  if (ACTIVE_STATUSES.has(visit.status)) return 'in-progress';
  if (visit.status === 'failed') return 'failed';
  return visit.outcome === 'unchanged' ? 'unchanged' : 'changed';
}

const OUTCOME_LABELS = { changed: 'Changed', unchanged: 'Unchanged', failed: 'Failed', 'in-progress': 'In progress' };

export function visitOutcomeBadge(visit) {
  const kind = visitOutcomeKind(visit);
  return h(
    'span',
    { class: `badge badge-visit-${kind}`, 'data-outcome': kind },
    h('span', { class: 'badge-dot', 'aria-hidden': 'true' }),
    OUTCOME_LABELS[kind],
  );
}

/**
 * What upstream did that an ordinary mirror would lose: a force-push rewrites history, a
 * deleted branch drops it. The earlier snapshot still holds both, which is why they are shown.
 */
export function changeMarks(changes) {
  const marks = [];
  if (changes?.nonFastForward > 0) marks.push({ kind: 'force-push', label: 'force-push' });
  if (changes?.deleted > 0) marks.push({ kind: 'deleted', label: 'branch deleted' });
  return marks.map(({ kind, label }) => h('span', { class: `mark mark-${kind}`, 'data-mark': kind }, label));
}

/** "2 created · 1 force-push · 1 deleted"; "no ref changed" for an unchanged visit. */
export function changeSummaryText(summary) {
  if (!summary) return '';
  const parts = [
    [summary.created, 'created'],
    [summary.fastForward, 'fast-forward'],
    [summary.nonFastForward, 'force-push'],
    [summary.tagMoved, 'tag moved'],
    [summary.deleted, 'deleted'],
  ]
    .filter(([count]) => count > 0)
    .map(([count, label]) => `${count} ${label}`);
  return parts.length > 0 ? parts.join(' · ') : 'no ref changed';
}

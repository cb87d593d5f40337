// The visits of a tracked repository, newest first: outcome, when, what changed (force-pushes
// and deleted branches marked), and a link to each snapshot's own page (/archives/:id).
import { h } from './dom.js';
import { formatDateTime, formatDuration, formatRelative, elapsed } from './format.js';
import { changeMarks, changeSummaryText, visitOutcomeBadge, visitOutcomeKind } from './repository-state.js';
import { verificationBadge, verificationProblem } from './verification.js';

export function visitTimeline(visits, now = Date.now()) {
  if (visits.length === 0) return h('p', { class: 'muted' }, 'No visit yet.');
  return h(
    'ol',
    { class: 'visits', 'data-testid': 'visit-timeline' },
    visits.map((visit) => visitItem(visit, now)),
  );
}

function visitItem(visit, now) {
  const kind = visitOutcomeKind(visit);
  const at = visit.finishedAt ?? visit.createdAt;
  const marks = changeMarks(visit.changes);
  const verifyFailed = visit.verification?.status === 'failed';
  return h(
    'li',
    {
      class: `visit visit-${kind}${verifyFailed ? ' visit-verify-failed' : ''}`,
      dataset: { id: visit.id, outcome: kind, verification: visit.verification?.status ?? 'unverified' },
    },
    h('span', { class: 'visit-marker', 'aria-hidden': 'true' }),
    h(
      'div',
      { class: 'visit-body' },
      h(
        'div',
        { class: 'visit-head' },
        visitOutcomeBadge(visit),
        marks,
        verifyFailed ? verificationBadge(visit.verification) : null,
        h('time', { class: 'visit-time', datetime: at, title: formatDateTime(at) }, formatRelative(at, now)),
      ),
      detail(visit, kind, now),
      verificationProblem(visit.verification),
      h(
        'a',
        {
          href: `/archives/${encodeURIComponent(visit.id)}`,
          class: 'visit-link',
          'aria-label': `Snapshot details of the visit ${formatDateTime(visit.createdAt)}`,
        },
        'Snapshot details ›',
      ),
    ),
  );
}

function detail(visit, kind, now) {
  if (kind === 'failed' && visit.error) {
    return h('p', { class: 'visit-text visit-error' }, visit.error.message, h('span', { class: 'error-code' }, ` (${visit.error.code})`));
  }
  if (kind === 'in-progress')
    return h('p', { class: 'visit-text muted' }, `${visit.status}, ${formatDuration(elapsed(visit, now))} so far`);
  if (kind === 'unchanged') return h('p', { class: 'visit-text muted' }, 'Same refs as the snapshot before; nothing new stored.');
  return h('p', { class: 'visit-text' }, visit.changes ? changeSummaryText(visit.changes) : 'New snapshot stored.');
}

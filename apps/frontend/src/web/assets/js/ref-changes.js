// "Ref changes" between two snapshots of a repository (GET /api/repositories/:id/changes).
// Force-pushes (a branch moved to a commit that does not contain the old one) are highlighted:
// they are what a plain mirror silently loses; the earlier snapshot still holds the old history.
import { card, notice, spinner } from './components.js';
import { h, mount, uid } from './dom.js';
import { formatDateTime, shortCommit } from './format.js';
import { changeSummaryText } from './repository-state.js';

const KIND_LABELS = {
  created: 'created',
  deleted: 'deleted',
  fast_forward: 'fast-forward',
  non_fast_forward: 'force-push (history rewritten)',
  tag_moved: 'tag moved',
};

export function refChangesCard(ctx, repositoryId) {
  const fromId = uid('changes-from');
  const toId = uid('changes-to');
  const from = h('select', { id: fromId, class: 'select', name: 'from' });
  const to = h('select', { id: toId, class: 'select', name: 'to' });
  const body = h('div', { 'data-testid': 'ref-changes' }, spinner('Loading the changes…'));
  let snapshotsKey;
  let request = 0;

  const pickers = h(
    'div',
    { class: 'filters changes-pickers' },
    h('div', { class: 'field-inline' }, h('label', { for: fromId }, 'From'), from),
    h('div', { class: 'field-inline' }, h('label', { for: toId }, 'To'), to),
  );
  from.addEventListener('change', () => void load());
  to.addEventListener('change', () => void load());

  async function load() {
    const mine = ++request;
    mount(body, spinner('Loading the changes…'));
    let data;
    try {
      data = await ctx.api.repositoryChanges(repositoryId, { from: from.value || undefined, to: to.value || undefined });
    } catch (error) {
      if (mine !== request) return;
      mount(body, notice(error.status === 409 ? 'warning' : 'error', error.message));
      return;
    }
    if (mine === request) mount(body, changesView(data));
  }

  /** Completed visits (newest first) are what can be compared; default is the latest change. */
  function setSnapshots(visits) {
    const completed = visits.filter((v) => v.status === 'completed');
    const key = completed.map((v) => v.id).join(',');
    if (key === snapshotsKey) return;
    snapshotsKey = key;
    const option = (visit, selected) => h('option', { value: visit.id, selected }, formatDateTime(visit.finishedAt ?? visit.createdAt));
    mount(
      from,
      h('option', { value: '' }, 'The snapshot before'),
      completed.map((v) => option(v, v.id === from.value)),
    );
    mount(
      to,
      h('option', { value: '' }, 'The latest change'),
      completed.map((v) => option(v, v.id === to.value)),
    );
    void load();
  }

  const element = card(
    'Ref changes',
    h('p', { class: 'hint' }, 'What moved between two snapshots. Pick any two completed visits.'),
    pickers,
    body,
  );
  return { element, setSnapshots };
}

function changesView(data) {
  if (!data.to) return h('p', { class: 'muted' }, 'No snapshot yet: the changes appear once a visit completes.');
  const range = h(
    'p',
    { class: 'changes-range' },
    data.from ? `From ${formatDateTime(data.from.finishedAt)} ` : 'From nothing (the first snapshot) ',
    `to ${formatDateTime(data.to.finishedAt)}: `,
    h('strong', { 'data-testid': 'changes-summary' }, changeSummaryText(data.summary)),
  );
  if (data.changes.length === 0) return range;
  const rows = data.changes.map((change) =>
    h(
      'tr',
      { class: `change change-${change.kind}`, dataset: { kind: change.kind, ref: change.ref } },
      h('td', { class: 'mono break' }, change.ref),
      h('td', {}, h('span', { class: `change-kind change-kind-${change.kind}` }, KIND_LABELS[change.kind] ?? change.kind)),
      h(
        'td',
        { class: 'mono nowrap' },
        h('span', { title: change.oldSha ?? '' }, shortCommit(change.oldSha)),
        ' → ',
        h('span', { title: change.newSha ?? '' }, shortCommit(change.newSha)),
      ),
    ),
  );
  return h(
    'div',
    {},
    range,
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'table table-changes', 'data-testid': 'changes-table' },
        h('caption', { class: 'visually-hidden' }, 'Ref changes, by ref name'),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['Ref', 'Kind', 'Old → new'].map((label) => h('th', { scope: 'col' }, label)),
          ),
        ),
        h('tbody', {}, rows),
      ),
    ),
  );
}

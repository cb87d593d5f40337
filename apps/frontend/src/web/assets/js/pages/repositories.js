// "/" (home): the repositories the person tracks (admins: everyone's), each kept up to date by
// scheduled visits. Filter by state and URL text, page through, archive now, pause or resume,
// and track another one. Refreshed every 2 s while a visit is under way, else every 15 s.
import { REFRESH_MS } from '../archive-table.js';
import { card, notice, pagination } from '../components.js';
import { announce, h, mount, uid } from '../dom.js';
import { ACTIVE_STATUSES, formatBytes, formatDateTime, formatNumber, formatRelative, formatTime, shortUrl } from '../format.js';
import { poll } from '../poller.js';
import { archiveNowButton, pauseResumeButton } from '../repository-actions.js';
import { REPOSITORY_STATES, repositoryBadge, stateReason } from '../repository-state.js';
import { trackForm } from '../track-form.js';

const PAGE_SIZE = 20;
const IDLE_REFRESH_MS = 15_000;

export function repositoriesPage(view, ctx) {
  ctx.setTitle('Repositories');
  const state = {
    state: ctx.query.get('state') ?? '',
    q: ctx.query.get('q') ?? '',
    page: Math.max(1, Number(ctx.query.get('page')) || 1),
    lastLoad: 0,
    anyActive: false,
  };
  const updated = h('span', { class: 'live-indicator', 'data-testid': 'last-updated' }, 'Connecting…');
  const messages = h('div', { 'aria-live': 'polite', 'data-testid': 'repository-messages' });
  const errorSlot = h('div');
  const tbody = h('tbody');
  const columns = [
    'Repository',
    'State',
    'Last change',
    'Next visit',
    'Snapshots',
    'Stored',
    h('span', { class: 'visually-hidden' }, 'Actions'),
  ];
  const numeric = new Set([4, 5]);
  const table = h(
    'table',
    { class: 'table', 'data-testid': 'repositories-table' },
    h('caption', { class: 'visually-hidden' }, 'Tracked repositories'),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        columns.map((label, i) => h('th', { scope: 'col', class: numeric.has(i) ? 'col-num' : undefined }, label)),
      ),
    ),
    tbody,
  );
  const empty = h('div', { class: 'empty', hidden: true });
  const pager = h('div');

  const say = (kind, text) => mount(messages, notice(kind, text));
  // After an action the list must show its effect now, not at the next idle refresh.
  const reload = () => {
    state.lastLoad = 0;
    return poller.refresh();
  };

  function row(repository) {
    const now = Date.now();
    const actions = { say, onDone: reload };
    return h(
      'tr',
      { dataset: { id: repository.id, state: repository.state } },
      h(
        'td',
        { class: 'col-repo', 'data-label': 'Repository' },
        h(
          'a',
          { href: `/repositories/${encodeURIComponent(repository.id)}`, class: 'repo-link', title: repository.url },
          h('span', { class: 'repo-name' }, shortUrl(repository.url)),
          h('span', { class: 'repo-url' }, repository.url),
        ),
      ),
      h(
        'td',
        { class: 'col-status', 'data-label': 'State' },
        h('div', { class: 'state-cell' }, repositoryBadge(repository), stateReason(repository)),
      ),
      h('td', { 'data-label': 'Last change' }, timeCell(repository.lastChangeAt, now, 'no change seen yet')),
      h('td', { 'data-label': 'Next visit' }, nextVisit(repository)),
      h('td', { class: 'col-num', 'data-label': 'Snapshots' }, formatNumber(repository.snapshotCount)),
      h('td', { class: 'col-num', 'data-label': 'Stored' }, formatBytes(repository.storedBytes)),
      h(
        'td',
        { class: 'col-actions', 'data-label': 'Actions' },
        h('div', { class: 'row-actions' }, archiveNowButton(ctx, repository, actions), pauseResumeButton(ctx, repository, actions)),
      ),
    );
  }

  let disposed = false;
  const known = new Map();

  async function load({ force = false } = {}) {
    // Nothing under way: the list barely moves, so ask less often.
    if (!force && !state.anyActive && Date.now() - state.lastLoad < IDLE_REFRESH_MS) return;
    let data;
    try {
      data = await ctx.api.listRepositories({
        state: state.state || undefined,
        q: state.q || undefined,
        page: state.page,
        pageSize: PAGE_SIZE,
      });
    } catch (error) {
      if (!disposed) mount(errorSlot, notice('error', `Could not refresh the list: ${error.message}`));
      throw error;
    }
    if (disposed) return;
    state.lastLoad = Date.now();
    mount(errorSlot);
    const pages = Math.max(1, Math.ceil(data.total / data.pageSize));
    if (state.page > pages) {
      state.page = pages;
      return load({ force: true });
    }
    ctx.replaceQuery({ state: state.state, q: state.q, page: state.page > 1 ? state.page : undefined });
    state.anyActive = data.items.some((r) => r.lastVisit && ACTIVE_STATUSES.has(r.lastVisit.status));
    for (const repository of data.items) {
      const before = known.get(repository.id);
      const status = repository.lastVisit?.status;
      if (before && ACTIVE_STATUSES.has(before) && status && !ACTIVE_STATUSES.has(status))
        announce(`Visit of ${shortUrl(repository.url)} ${status}.`);
      known.set(repository.id, status);
    }
    renderRows(data.items);
    table.hidden = data.items.length === 0;
    empty.hidden = data.items.length > 0;
    mount(
      empty,
      h('p', {}, state.state || state.q ? 'No tracked repository matches these filters.' : 'You track no repository yet. Track one above.'),
    );
    mount(pager, data.total > data.pageSize ? pagination(data, (page) => ((state.page = page), void load({ force: true }))) : null);
    mount(updated, h('span', { class: 'live-dot', 'aria-hidden': 'true' }), `Live · updated ${formatTime(new Date())}`);
  }

  /** Rows are replaced only when their data changed, so a focused button keeps its focus otherwise. */
  function renderRows(items) {
    const existing = new Map([...tbody.children].map((tr) => [tr.dataset.id, tr]));
    const rows = items.map((repository) => {
      const signature = JSON.stringify(repository);
      const old = existing.get(repository.id);
      if (old && old.dataset.sig === signature) return old;
      const fresh = row(repository);
      fresh.dataset.sig = signature;
      return fresh;
    });
    const same = rows.length === tbody.children.length && rows.every((tr, i) => tbody.children[i] === tr);
    if (!same) tbody.replaceChildren(...rows);
  }

  const filters = filterBar(state, () => {
    state.page = 1;
    void load({ force: true });
  });
  mount(
    view,
    h(
      'div',
      { class: 'page-head' },
      h('h1', {}, 'Repositories'),
      h('p', { class: 'lead' }, 'Repositories you track are visited on a schedule; each visit that finds changes stores a new snapshot.'),
    ),
    trackForm(ctx, () => load({ force: true })),
    card(
      ctx.session.isAdmin ? 'All tracked repositories' : 'Your tracked repositories',
      h('div', { class: 'toolbar' }, filters, updated),
      messages,
      errorSlot,
      h('div', { class: 'table-wrap' }, table),
      empty,
      pager,
    ),
  );

  const poller = poll(() => load(), REFRESH_MS);
  return () => {
    disposed = true;
    poller.stop();
  };
}

function filterBar(state, onChange) {
  const selectId = uid('state-filter');
  const searchId = uid('repo-search');
  const select = h(
    'select',
    { id: selectId, class: 'select', name: 'state' },
    h('option', { value: '' }, 'All states'),
    Object.entries(REPOSITORY_STATES).map(([value, label]) => h('option', { value, selected: value === state.state }, label)),
  );
  select.addEventListener('change', () => ((state.state = select.value), onChange()));
  const search = h('input', {
    id: searchId,
    type: 'search',
    class: 'input input-search',
    name: 'q',
    value: state.q,
    placeholder: 'Part of the URL',
  });
  let timer;
  search.addEventListener('input', () => {
    clearTimeout(timer);
    // Ask once typing pauses, not on every key.
    timer = setTimeout(() => ((state.q = search.value.trim()), onChange()), 300);
  });
  return h(
    'div',
    { class: 'filters' },
    h('div', { class: 'field-inline' }, h('label', { for: selectId }, 'State'), select),
    h('div', { class: 'field-inline' }, h('label', { for: searchId }, 'Search'), search),
  );
}

function timeCell(iso, now, none) {
  if (!iso) return h('span', { class: 'muted' }, none);
  return h('time', { datetime: iso, title: formatDateTime(iso) }, formatRelative(iso, now));
}

function nextVisit(repository) {
  if (repository.state !== 'active') return h('span', { class: 'muted' }, 'not scheduled');
  if (!repository.nextVisitAt) return h('span', { class: 'muted' }, '—');
  return h('time', { datetime: repository.nextVisitAt }, formatDateTime(repository.nextVisitAt));
}

// The live list of archives (scope `mine`, or `all` for admins with the owner's name): status filter,
// newest first, pagination, refreshed every 2 s while the tab is visible. Rows are updated
// cell by cell, so a focused link or button keeps its focus while statuses change around it.
import { statusBadge, notice, pagination, statusFilter } from './components.js';
import { announce, h, mount } from './dom.js';
import {
  ACTIVE_STATUSES,
  STATUS_LABELS,
  elapsed,
  formatBytes,
  formatDateTime,
  formatDuration,
  formatNumber,
  formatRelative,
  formatTime,
  shortUrl,
} from './format.js';
import { poll } from './poller.js';
import { retryButton } from './retry-button.js';

export const REFRESH_MS = 2000;
const PAGE_SIZE = 20;

export function archiveTable(ctx, { caption, scope = 'mine', onDelete, emptyText }) {
  // Everyone's archives need to say whose each one is; one's own do not.
  const showOwner = scope === 'all';
  const state = {
    status: ctx.query.get('status') ?? '',
    page: Math.max(1, Number(ctx.query.get('page')) || 1),
    known: new Map(),
  };

  const updated = h(
    'span',
    { class: 'live-indicator', 'data-testid': 'last-updated' },
    h('span', { class: 'live-dot', 'aria-hidden': 'true' }),
    'Connecting…',
  );
  const errorSlot = h('div', { class: 'table-error' });
  const tbody = h('tbody');
  const columns = [
    ['Repository', 'col-repo'],
    ['Status', 'col-status'],
    ['Created', 'col-created'],
    ['Duration', 'col-num'],
    ['Files', 'col-num'],
    ['Size', 'col-num'],
    ...(showOwner ? [['Requested by', 'col-owner']] : []),
    ...(onDelete ? [[h('span', { class: 'visually-hidden' }, 'Actions'), 'col-actions']] : []),
  ];
  const table = h(
    'table',
    { class: 'table', 'data-testid': 'archives-table' },
    h('caption', { class: 'visually-hidden' }, caption),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        columns.map(([label, cls]) => h('th', { scope: 'col', class: cls }, label)),
      ),
    ),
    tbody,
  );
  const empty = h('div', { class: 'empty', hidden: true }, h('p', {}, emptyText));
  const pager = h('div');
  const filter = statusFilter(state.status, (status) => {
    state.status = status;
    state.page = 1;
    void poller.refresh();
  });

  const element = h(
    'div',
    { class: 'archive-list' },
    h('div', { class: 'toolbar' }, filter, updated),
    errorSlot,
    h('div', { class: 'table-wrap' }, table),
    empty,
    pager,
  );

  function cellsFor(archive) {
    const now = Date.now();
    const active = ACTIVE_STATUSES.has(archive.status);
    const cells = [
      [
        'Repository',
        'col-repo',
        h(
          'a',
          { href: `/archives/${encodeURIComponent(archive.id)}`, class: 'repo-link', title: archive.url },
          h('span', { class: 'repo-name' }, shortUrl(archive.url)),
          h('span', { class: 'repo-url' }, archive.url),
        ),
      ],
      ['Status', 'col-status', statusCell(archive)],
      [
        'Created',
        'col-created',
        h('time', { datetime: archive.createdAt, title: formatDateTime(archive.createdAt) }, formatRelative(archive.createdAt, now)),
      ],
      [
        'Duration',
        'col-num',
        active ? h('span', { class: 'muted' }, `${formatDuration(elapsed(archive, now))} so far`) : formatDuration(elapsed(archive, now)),
      ],
      ['Files', 'col-num', formatNumber(archive.fileCount)],
      ['Size', 'col-num', formatBytes(archive.byteCount)],
    ];
    if (showOwner) cells.push(['Requested by', 'col-owner', ownerLabel(archive, ctx.session.subject)]);
    if (onDelete) {
      cells.push([
        'Actions',
        'col-actions',
        h(
          'button',
          {
            type: 'button',
            class: 'button button-danger button-small',
            disabled: active,
            title: active ? 'Active archives cannot be deleted until they finish' : undefined,
            'aria-label': `Delete the archive of ${shortUrl(archive.url)} created ${formatDateTime(archive.createdAt)}`,
            onClick: () => onDelete(archive, () => poller.refresh()),
          },
          'Delete',
        ),
      ]);
    }
    return cells;
  }

  /** A failed archive of one's own offers "Retry" beside its badge; the new archive shows up as a row. */
  function statusCell(archive) {
    if (archive.status !== 'failed' || archive.requestedBy !== ctx.session.subject) return statusBadge(archive.status);
    return h(
      'div',
      { class: 'status-retry' },
      statusBadge(archive.status),
      retryButton(ctx, archive, { small: true, onRetried: () => poller.refresh() }),
    );
  }

  function renderRows(items) {
    const existing = new Map([...tbody.children].map((row) => [row.dataset.id, row]));
    const rows = items.map((archive) => {
      const row = existing.get(archive.id) ?? h('tr', { dataset: { id: archive.id } });
      row.dataset.status = archive.status;
      const cells = cellsFor(archive);
      cells.forEach(([label, cls, content], index) => {
        let cell = row.children[index];
        if (!cell) row.append((cell = h('td', { class: cls, 'data-label': label })));
        const signature = content instanceof Node ? (content.outerHTML ?? content.textContent) : String(content);
        if (cell.dataset.sig !== signature) {
          mount(cell, content);
          cell.dataset.sig = signature;
        }
      });
      return row;
    });
    // Reorder/replace only when the set or order of rows changed.
    const sameOrder = rows.length === tbody.children.length && rows.every((row, i) => tbody.children[i] === row);
    if (!sameOrder) tbody.replaceChildren(...rows);
  }

  function announceChanges(items) {
    for (const archive of items) {
      const before = state.known.get(archive.id);
      if (before && before !== archive.status && !ACTIVE_STATUSES.has(archive.status)) {
        announce(`Archive of ${shortUrl(archive.url)} ${STATUS_LABELS[archive.status].toLowerCase()}.`);
      }
      state.known.set(archive.id, archive.status);
    }
  }

  let disposed = false;

  async function load() {
    let data;
    try {
      data = await ctx.api.listArchives({ scope, status: state.status || undefined, page: state.page, pageSize: PAGE_SIZE });
    } catch (error) {
      if (disposed) return;
      mount(errorSlot, notice('error', `Could not refresh the list: ${error.message}`));
      throw error;
    }
    // An answer that arrives after the person left the page must not touch the new page's URL.
    if (disposed) return;
    mount(errorSlot);
    const pages = Math.max(1, Math.ceil(data.total / data.pageSize));
    if (state.page > pages) {
      state.page = pages;
      return load();
    }
    ctx.replaceQuery({ status: state.status, page: state.page > 1 ? state.page : undefined });
    announceChanges(data.items);
    renderRows(data.items);
    table.hidden = data.items.length === 0;
    empty.hidden = data.items.length > 0;
    mount(
      pager,
      data.total > data.pageSize
        ? pagination(data, (page) => {
            state.page = page;
            void poller.refresh();
          })
        : null,
    );
    mount(updated, h('span', { class: 'live-dot', 'aria-hidden': 'true' }), `Live · updated ${formatTime(new Date())}`);
  }

  const poller = poll(load, REFRESH_MS);
  return {
    element,
    refresh: () => poller.refresh(),
    dispose: () => {
      disposed = true;
      poller.stop();
    },
  };
}

/** The owner's user name ("demo", "admin (you)"); archives recorded before names were kept show a short subject id. */
function ownerLabel(archive, mySubject) {
  const name = archive.requestedByName;
  const you = archive.requestedBy === mySubject ? ' (you)' : '';
  if (name) return h('span', { title: archive.requestedBy, 'data-testid': 'owner' }, `${name}${you}`);
  return h('span', { title: archive.requestedBy, class: 'mono', 'data-testid': 'owner' }, `${archive.requestedBy.slice(0, 8)}${you}`);
}

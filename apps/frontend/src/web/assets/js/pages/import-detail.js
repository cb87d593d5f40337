// "/imports/:id": one import's repositories and what happened to each, refreshed every 2 s while
// the import is listing or tracking, then left alone.
import { card, notice, spinner } from '../components.js';
import { h, mount } from '../dom.js';
import { formatDateTime } from '../format.js';
import { IMPORT_ACTIVE_STATES, IMPORT_OUTCOME_BADGES, IMPORT_OUTCOME_LABELS, importErrorText } from '../import-labels.js';
import { poll } from '../poller.js';
import { countsText, stateBadge } from './imports.js';

const ACTIVE_REFRESH_MS = 2000;

export function importDetailPage(view, ctx) {
  const [id] = ctx.params;
  ctx.setTitle('Import');
  const body = h('div', { 'data-testid': 'import-detail' }, spinner('Loading the import…'));
  let signature;

  async function load() {
    let detail;
    try {
      detail = await ctx.api.getImport(id);
    } catch (error) {
      const text =
        error.status === 404
          ? `No import ${id} of yours. Check the address, or open your imports list.`
          : `Could not load the import: ${error.message}`;
      mount(body, notice('error', text, ' ', h('a', { href: '/imports' }, 'All imports')));
      if (error.status === 404) poller.stop();
      throw error;
    }
    if (!IMPORT_ACTIVE_STATES.has(detail.state)) poller.stop();
    const next = JSON.stringify(detail);
    if (next === signature) return;
    signature = next;
    ctx.setTitle(`Import of ${detail.owner}`);
    mount(body, summary(detail), card('Repositories', itemTable(detail)));
  }

  mount(view, h('div', { class: 'page-head' }, h('h1', {}, 'Import'), h('p', {}, h('a', { href: '/imports' }, '← All imports'))), body);
  const poller = poll(load, ACTIVE_REFRESH_MS);
  return () => poller.stop();
}

function summary(detail) {
  const rows = [
    ['Forge', `${detail.forge} · ${detail.baseUrl}`],
    ['Owner', detail.owner],
    ['State', stateBadge(detail.state)],
    ['Repositories', h('span', { 'data-testid': 'import-counts' }, countsText(detail.counts))],
    ['Filters', filtersText(detail)],
    ['Token', detail.hasToken ? 'given (kept encrypted on the server)' : 'none'],
    ['Started', formatDateTime(detail.createdAt)],
    ['Finished', detail.finishedAt ? formatDateTime(detail.finishedAt) : '—'],
  ];
  return card(
    'Summary',
    detail.errorCode || detail.error
      ? h('div', { 'data-testid': 'import-error' }, notice('error', importErrorText(detail.errorCode, detail.error)))
      : null,
    h(
      'dl',
      { class: 'details' },
      rows.flatMap(([term, value]) => [h('dt', {}, term), h('dd', {}, value)]),
    ),
  );
}

function filtersText(detail) {
  const parts = [];
  if (detail.include) parts.push(`include ${detail.include}`);
  if (detail.exclude) parts.push(`exclude ${detail.exclude}`);
  parts.push(detail.includeForks ? 'forks included' : 'forks skipped');
  parts.push(detail.includeArchived ? 'archived included' : 'archived skipped');
  return parts.join(' · ');
}

function itemTable(detail) {
  if (detail.items.length === 0) {
    return h(
      'p',
      { class: 'empty' },
      IMPORT_ACTIVE_STATES.has(detail.state) ? 'Listing the forge’s repositories…' : 'No repositories were listed.',
    );
  }
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'table', 'data-testid': 'import-items' },
      h('caption', { class: 'visually-hidden' }, 'Repositories of this import and their outcome'),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Repository', 'Outcome', 'Details'].map((label) => h('th', { scope: 'col' }, label)),
        ),
      ),
      h(
        'tbody',
        {},
        detail.items.map((item) =>
          h(
            'tr',
            { 'data-name': item.name, 'data-outcome': item.outcome },
            h(
              'td',
              {},
              item.repositoryId
                ? h('a', { href: `/repositories/${encodeURIComponent(item.repositoryId)}`, 'data-testid': 'tracked-link' }, item.name)
                : item.name,
              item.private ? h('span', { class: 'tag' }, ' private') : null,
              item.fork ? h('span', { class: 'tag' }, ' fork') : null,
              item.archived ? h('span', { class: 'tag' }, ' archived') : null,
            ),
            h(
              'td',
              {},
              h(
                'span',
                { class: `badge badge-${IMPORT_OUTCOME_BADGES[item.outcome] ?? 'pending'}`, 'data-testid': 'item-outcome' },
                h('span', { class: 'badge-dot', 'aria-hidden': 'true' }),
                IMPORT_OUTCOME_LABELS[item.outcome] ?? item.outcome,
              ),
            ),
            h(
              'td',
              {},
              item.errorCode || item.error ? h('span', { class: 'field-error' }, importErrorText(item.errorCode, item.error)) : '',
            ),
          ),
        ),
      ),
    ),
  );
}

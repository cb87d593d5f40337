// What a submission produced: one line per URL and a summary ("3 accepted · 2 refused").
// Accepted archives keep a live status badge, polled like the list until each one has
// finished. The lines sit in a box of bounded height that scrolls, so a long batch does not
// push "My archives" out of view.
import { REFRESH_MS } from './archive-table.js';
import { statusBadge } from './components.js';
import { announce, h, mount } from './dom.js';
import { ACTIVE_STATUSES, shortUrl } from './format.js';
import { poll } from './poller.js';

/** Parallel status reads per refresh: a 100-URL batch must not flood the API every 2 s. */
const READS_AT_ONCE = 6;
const LABELS = { accepted: 'Accepted', existing: 'Already in progress', error: 'Not accepted' };

export function submitResults(ctx) {
  const summary = h('p', { class: 'results-summary', role: 'status', 'data-testid': 'submit-summary' });
  const list = h('ol', { class: 'results', 'data-testid': 'submit-results', 'aria-label': 'Results of the last submission' });
  const element = h('div', { class: 'results-area' }, summary, list);
  let poller;

  function show(outcomes) {
    poller?.stop();
    const live = new Map();
    mount(
      list,
      outcomes.map((outcome) => {
        const item = resultItem(outcome);
        if (outcome.archive) live.set(outcome.archive.id, { outcome, slot: item.querySelector('[data-slot="status"]') });
        return item;
      }),
    );
    mount(summary, summaryText(outcomes));
    // A scroll box must be reachable by keyboard to be scrolled without a mouse.
    if (list.scrollHeight > list.clientHeight) list.setAttribute('tabindex', '0');
    else list.removeAttribute('tabindex');
    list.scrollTop = 0;
    poller = poll(() => refresh(live), REFRESH_MS);
  }

  async function refresh(live) {
    const active = [...live.entries()].filter(([, { outcome }]) => ACTIVE_STATUSES.has(outcome.archive.status));
    if (active.length === 0) return poller.stop();
    for (let i = 0; i < active.length; i += READS_AT_ONCE) {
      await Promise.all(
        active.slice(i, i + READS_AT_ONCE).map(async ([id, entry]) => {
          const archive = await ctx.api.getArchive(id);
          if (archive.status === entry.outcome.archive.status) return;
          entry.outcome.archive = archive;
          mount(entry.slot, statusBadge(archive.status));
          if (!ACTIVE_STATUSES.has(archive.status)) announce(`Archive of ${shortUrl(archive.url)} ${archive.status}.`);
        }),
      );
    }
  }

  return { element, show, dispose: () => poller?.stop() };
}

function summaryText(outcomes) {
  const count = (kind) => outcomes.filter((o) => o.kind === kind).length;
  const parts = [`${count('accepted')} accepted`];
  if (count('existing') > 0) parts.push(`${count('existing')} already in progress`);
  parts.push(`${count('error')} refused`);
  return parts.join(' · ');
}

function resultItem(outcome) {
  const detail =
    outcome.kind === 'error'
      ? h('span', { class: 'result-message', 'data-testid': 'result-message' }, outcome.message)
      : h(
          'a',
          { href: `/archives/${encodeURIComponent(outcome.archive.id)}`, class: 'result-link' },
          outcome.kind === 'existing' ? 'Open the archive in progress' : 'Follow this archive',
        );
  return h(
    'li',
    { class: `result result-${outcome.kind}`, 'data-kind': outcome.kind },
    h('span', { class: 'result-kind' }, LABELS[outcome.kind]),
    h('span', { class: 'result-body' }, h('code', { class: 'result-url', title: outcome.url }, outcome.url), detail),
    outcome.archive
      ? h('span', { class: 'result-status', 'data-slot': 'status', 'data-testid': 'result-status' }, statusBadge(outcome.archive.status))
      : null,
  );
}

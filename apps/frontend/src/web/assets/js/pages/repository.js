// "/repositories/:id": one tracked repository — state and schedule, its actions, the timeline
// of visits, its retention, and the ref changes between two snapshots.
import { REFRESH_MS } from '../archive-table.js';
import { card, notice, pagination, spinner } from '../components.js';
import { credentialCard } from '../credential-card.js';
import { h, mount } from '../dom.js';
import { ACTIVE_STATUSES, formatDateTime, formatNumber, formatBytes, shortUrl } from '../format.js';
import { poll } from '../poller.js';
import { refChangesCard } from '../ref-changes.js';
import { archiveNowButton, pauseResumeButton } from '../repository-actions.js';
import { repositoryBadge, stateReason } from '../repository-state.js';
import { retentionCard } from '../retention-card.js';
import { visitTimeline } from '../visit-timeline.js';

const VISITS_PAGE_SIZE = 20;
const IDLE_REFRESH_MS = 15_000;

export function repositoryPage(view, ctx) {
  const [id] = ctx.params;
  ctx.setTitle('Repository');
  const state = { visitsPage: Math.max(1, Number(ctx.query.get('visits')) || 1), anyActive: true, lastLoad: 0, signature: undefined };
  const head = h('div', {}, spinner('Loading the repository…'));
  const messages = h('div', { 'aria-live': 'polite', 'data-testid': 'repository-messages' });
  const scheduleSlot = h('div');
  const timelineSlot = h('div');
  const changes = refChangesCard(ctx, id);
  const retention = retentionCard(ctx, id);
  const credential = credentialCard(ctx, { onChanged: () => load({ force: true }) });
  const confirm = confirmDialog();
  const say = (kind, text) => mount(messages, notice(kind, text));
  let disposed = false;

  async function load({ force = false } = {}) {
    if (!force && !state.anyActive && Date.now() - state.lastLoad < IDLE_REFRESH_MS) return;
    let repository;
    try {
      repository = await ctx.api.getRepository(id, { visitsPage: state.visitsPage, visitsPageSize: VISITS_PAGE_SIZE });
    } catch (error) {
      if (disposed) return;
      if (error.status === 404) {
        poller.stop();
        ctx.setTitle('Repository not found');
        mount(
          view,
          back(),
          h('h1', {}, 'Repository not found'),
          notice('error', 'You do not track a repository with this id. It may have been removed.'),
        );
        return;
      }
      mount(messages, notice('error', `Could not load the repository: ${error.message}`));
      throw error;
    }
    if (disposed) return;
    state.lastLoad = Date.now();
    state.anyActive = repository.visits.items.some((visit) => ACTIVE_STATUSES.has(visit.status));
    const signature = JSON.stringify(repository);
    if (signature === state.signature) return;
    state.signature = signature;
    ctx.setTitle(shortUrl(repository.url));
    render(repository);
  }

  function render(repository) {
    const reload = () => load({ force: true });
    const stop = h('button', { type: 'button', class: 'button button-danger', 'data-action': 'untrack' }, 'Stop tracking');
    stop.addEventListener('click', async () => {
      if (!(await confirm.ask(repository))) return;
      try {
        await ctx.api.untrackRepository(repository.id);
        ctx.navigate('/');
      } catch (error) {
        say('error', `Could not stop tracking: ${error.message}`);
      }
    });
    const actions = { say, onDone: reload, small: false };
    mount(
      head,
      h(
        'div',
        { class: 'page-head detail-head' },
        h('div', { class: 'detail-title' }, h('h1', {}, shortUrl(repository.url)), repositoryBadge(repository)),
        h('p', { class: 'detail-url' }, h('code', {}, repository.url)),
        repository.state === 'active' ? null : notice(repository.state === 'disabled' ? 'error' : 'warning', stateText(repository)),
        repository.failedVerifications > 0
          ? h(
              'div',
              { 'data-testid': 'verification-failures' },
              notice(
                'error',
                `${formatNumber(repository.failedVerifications)} ${repository.failedVerifications === 1 ? 'snapshot' : 'snapshots'} failed the restore check: a stored object is missing or damaged. The visits below say which.`,
              ),
            )
          : null,
        h('div', { class: 'card-actions' }, archiveNowButton(ctx, repository, actions), pauseResumeButton(ctx, repository, actions), stop),
      ),
    );
    mount(scheduleSlot, scheduleCard(repository));
    credential.update(repository);
    const { visits } = repository;
    mount(
      timelineSlot,
      card(
        'Visits',
        visitTimeline(visits.items),
        visits.total > visits.pageSize
          ? pagination(visits, (page) => {
              state.visitsPage = page;
              ctx.replaceQuery({ visits: page > 1 ? page : undefined });
              void reload();
            })
          : null,
      ),
    );
    changes.setSnapshots(visits.items);
    retention.setRepository(repository);
  }

  mount(
    view,
    back(),
    head,
    messages,
    h(
      'div',
      { class: 'detail-grid' },
      h('div', { class: 'detail-main' }, timelineSlot),
      h('div', { class: 'detail-side' }, scheduleSlot, credential.element, retention.element),
    ),
    // Full width: ref names and two shas per row need the room.
    h('div', { class: 'changes-area' }, changes.element),
    confirm.element,
  );
  const poller = poll(() => load(), REFRESH_MS);
  return () => {
    disposed = true;
    poller.stop();
  };
}

const back = () => h('p', { class: 'back' }, h('a', { href: '/' }, '‹ All repositories'));

function stateText(repository) {
  const reason = stateReason(repository);
  if (repository.state === 'paused') return [h('strong', {}, 'Paused: '), reason ?? 'no scheduled visits until it is resumed.'];
  return [
    h('strong', {}, 'Disabled after failed visits: '),
    reason ?? 'the upstream could not be reached.',
    ' Re-enable it or archive it now to try again.',
  ];
}

function scheduleCard(repository) {
  const row = (term, value) => [h('dt', {}, term), h('dd', {}, value)];
  const hours = repository.intervalHours;
  const every = hours >= 48 ? `${formatNumber(Math.round((hours / 24) * 10) / 10)} days` : `${formatNumber(Math.round(hours * 10) / 10)} h`;
  return card(
    'Schedule',
    h(
      'dl',
      { class: 'facts', 'data-testid': 'schedule' },
      row('Interval', `every ${every} (${repository.pinnedIntervalHours === null ? 'adaptive' : 'pinned'})`),
      row('Next visit', repository.state === 'active' && repository.nextVisitAt ? formatDateTime(repository.nextVisitAt) : 'not scheduled'),
      row('Last visit', formatDateTime(repository.lastVisitAt)),
      row('Last change', formatDateTime(repository.lastChangeAt)),
      row('Failures in a row', formatNumber(repository.consecutiveFailures)),
      row('Snapshots', `${formatNumber(repository.snapshotCount)} · ${formatBytes(repository.storedBytes)}`),
      row('Failed restore checks', formatNumber(repository.failedVerifications ?? 0)),
      row('Tracked by', `${formatNumber(repository.trackerCount)} ${repository.trackerCount === 1 ? 'person' : 'people'}`),
    ),
  );
}

/** Stopping is undoable only by tracking again, so it asks first (a modal <dialog>). */
function confirmDialog() {
  const text = h('p', {});
  const cancel = h('button', { type: 'button', class: 'button button-secondary' }, 'Cancel');
  const ok = h('button', { type: 'button', class: 'button button-danger' }, 'Stop tracking');
  const element = h(
    'dialog',
    { class: 'dialog', 'aria-label': 'Stop tracking?' },
    h('h2', { class: 'dialog-title' }, 'Stop tracking?'),
    text,
    h('div', { class: 'dialog-actions' }, cancel, ok),
  );
  let resolve;
  const close = (value) => {
    if (element.open) element.close();
    resolve?.(value);
    resolve = undefined;
  };
  cancel.addEventListener('click', () => close(false));
  ok.addEventListener('click', () => close(true));
  element.addEventListener('cancel', () => close(false));
  return {
    element,
    ask(repository) {
      text.textContent = `${repository.url} will no longer be visited for you. Snapshots already stored stay.`;
      element.showModal();
      cancel.focus();
      return new Promise((r) => (resolve = r));
    },
  };
}

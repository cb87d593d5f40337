// "/archives/:id": one archive's journey (four stamps as a timeline), what was stored, and
// how to get it back (presigned bundle download + the git clone command).
import { REFRESH_MS } from '../archive-table.js';
import { card, copyButton, notice, spinner, statusBadge } from '../components.js';
import { h, mount } from '../dom.js';
import {
  ACTIVE_STATUSES,
  formatBytes,
  formatDateTime,
  formatDuration,
  formatNumber,
  formatPreciseDateTime,
  shortCommit,
  shortUrl,
} from '../format.js';
import { lfsSummaryCard } from '../lfs.js';
import { poll } from '../poller.js';
import { retryButton } from '../retry-button.js';
import { verificationCard } from '../verification.js';

const STAMPS = [
  { key: 'createdAt', title: 'Recorded', text: 'The request was stored and handed to the injector.' },
  { key: 'injectedAt', title: 'Admitted', text: 'The injector checked it and queued it for a worker.' },
  { key: 'startedAt', title: 'Started', text: 'A worker began the bare clone.' },
  { key: 'finishedAt', title: 'Finished', text: 'Files, bundle and manifest are in the bucket.' },
];

const STAGES = [
  { key: 'waitMs', from: 'createdAt', to: 'injectedAt', label: 'Waiting for the injector' },
  { key: 'injectMs', from: 'injectedAt', to: 'startedAt', label: 'Waiting for a worker' },
  { key: 'runMs', from: 'startedAt', to: 'finishedAt', label: 'Cloning and uploading' },
];

export function archiveDetailPage(view, ctx) {
  const [id] = ctx.params;
  ctx.setTitle('Archive');
  const body = h('div', {}, spinner('Loading the archive…'));
  mount(view, h('p', { class: 'back' }, h('a', { href: '/archives' }, '‹ All archives')), body);

  let restore;
  let retry;
  let verification;
  let poller;
  let lastSignature;

  async function load() {
    let archive;
    try {
      archive = await ctx.api.getArchive(id);
    } catch (error) {
      if (error.status === 404) {
        poller.stop();
        ctx.setTitle('Archive not found');
        mount(
          body,
          h('h1', {}, 'Archive not found'),
          notice('error', 'There is no archive with this id among yours. It may have been deleted, or it belongs to someone else.'),
        );
        return;
      }
      mount(body, h('h1', {}, 'Archive'), notice('error', `Could not load the archive: ${error.message}`));
      throw error;
    }
    if (!ACTIVE_STATUSES.has(archive.status)) poller.stop();
    const signature = JSON.stringify(archive);
    if (signature === lastSignature) return;
    lastSignature = signature;
    ctx.setTitle(shortUrl(archive.url));
    restore ??= restoreCard(ctx, archive);
    restore.update(archive);
    if (archive.status === 'completed') verification ??= verificationCard(ctx, archive);
    verification?.update(archive);
    // A failed archive stays failed (the list stops polling it), so one control suffices.
    if (archive.status === 'failed') retry ??= retryButton(ctx, archive);
    const heading = body.querySelector('h1');
    const hadFocus = heading !== null && document.activeElement === heading;
    mount(
      body,
      header(archive, archive.status === 'failed' ? retry : null),
      h(
        'div',
        { class: 'detail-grid' },
        h('div', { class: 'detail-main' }, timelineCard(archive), lfsSummaryCard(archive.lfs)),
        h('div', { class: 'detail-side' }, factsCard(archive), restore.element, verification?.element),
      ),
    );
    if (hadFocus) focusHeading(body);
  }

  poller = poll(load, REFRESH_MS);
  return () => poller.stop();
}

function focusHeading(body) {
  const heading = body.querySelector('h1');
  heading.setAttribute('tabindex', '-1');
  heading.focus({ preventScroll: true });
}

function header(archive, retry) {
  return h(
    'div',
    { class: 'page-head detail-head' },
    h('div', { class: 'detail-title' }, h('h1', {}, shortUrl(archive.url)), statusBadge(archive.status)),
    h('p', { class: 'detail-url' }, h('code', {}, archive.url)),
    archive.error
      ? notice(
          archive.status === 'failed' ? 'error' : 'warning',
          h('strong', {}, archive.status === 'failed' ? 'Archiving failed: ' : 'The last attempt failed; a retry is scheduled: '),
          archive.error.message,
          h('span', { class: 'error-code' }, ` (${archive.error.code})`),
        )
      : null,
    retry,
  );
}

function stageMs(archive, stage) {
  const fromApi = archive.durations?.[stage.key];
  if (fromApi !== null && fromApi !== undefined) return fromApi;
  if (archive[stage.from] && !archive[stage.to] && ACTIVE_STATUSES.has(archive.status))
    return Date.now() - new Date(archive[stage.from]).getTime();
  return null;
}

function timelineCard(archive) {
  const total = STAGES.reduce((sum, stage) => sum + (stageMs(archive, stage) ?? 0), 0);
  const steps = STAMPS.map((stamp, index) => {
    const at = archive[stamp.key];
    const failedHere = archive.status === 'failed' && stamp.key === 'finishedAt';
    const state = at ? (failedHere ? 'failed' : 'done') : index > 0 && archive[STAMPS[index - 1].key] ? 'current' : 'waiting';
    const stage = STAGES[index];
    const ms = stage ? stageMs(archive, stage) : null;
    return h(
      'li',
      { class: `step step-${state}`, 'data-stamp': stamp.key },
      h('span', { class: 'step-marker', 'aria-hidden': 'true' }),
      h(
        'div',
        { class: 'step-body' },
        h(
          'div',
          { class: 'step-head' },
          h('span', { class: 'step-title' }, failedHere ? 'Failed' : stamp.title),
          at
            ? h('time', { datetime: at, class: 'step-time', title: formatDateTime(at) }, formatPreciseDateTime(at))
            : h('span', { class: 'step-time muted' }, state === 'current' ? 'in progress…' : 'not yet'),
        ),
        h('p', { class: 'step-text' }, failedHere ? 'The worker gave up; the reason is shown above.' : stamp.text),
        stage && ms !== null
          ? h(
              'p',
              { class: 'step-stage' },
              h('span', { class: `stage-swatch stage-${index}`, 'aria-hidden': 'true' }),
              `${stage.label}: `,
              h('strong', {}, formatDuration(ms)),
              archive[stage.to] ? '' : ' so far',
            )
          : null,
      ),
    );
  });
  const bar =
    total > 0
      ? h(
          'div',
          {
            class: 'stage-bar',
            role: 'img',
            'aria-label': STAGES.map((s) => `${s.label} ${formatDuration(stageMs(archive, s))}`).join(', '),
          },
          STAGES.map((stage, index) => {
            const ms = stageMs(archive, stage) ?? 0;
            const segment = h('span', { class: `stage-segment stage-${index}`, title: `${stage.label}: ${formatDuration(ms)}` });
            // A width from data, not markup: CSSOM assignments are allowed under the CSP's style-src 'self'.
            segment.style.flexGrow = String(ms);
            return ms > 0 ? segment : null;
          }),
        )
      : null;
  const totalMs = archive.durations?.totalMs;
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'timeline-title' },
    h(
      'div',
      { class: 'card-head' },
      h('h2', { class: 'card-title', id: 'timeline-title' }, 'Timeline'),
      h('span', { class: 'card-meta' }, totalMs !== null && totalMs !== undefined ? `Total ${formatDuration(totalMs)}` : 'In progress'),
    ),
    bar,
    h('ol', { class: 'timeline', 'data-testid': 'timeline' }, steps),
  );
}

function factsCard(archive) {
  const row = (term, value, attrs = {}) => [h('dt', {}, term), h('dd', attrs, value)];
  return card(
    'Snapshot',
    h(
      'dl',
      { class: 'facts' },
      row(
        'Commit',
        archive.commit
          ? h('code', { title: archive.commit }, shortCommit(archive.commit))
          : archive.status === 'completed'
            ? 'none (empty repository)'
            : '—',
      ),
      row('Refs', formatNumber(archive.refCount)),
      row('Files', formatNumber(archive.fileCount)),
      row('Size', formatBytes(archive.byteCount)),
      row('Attempts', formatNumber(archive.attempts)),
      row('Bucket', archive.bucket ? h('code', {}, archive.bucket) : '—'),
      row('Snapshot', archive.prefix ? h('code', { class: 'break' }, archive.prefix) : '—'),
      row('Archive id', h('code', { class: 'break' }, archive.id)),
    ),
    archive.status === 'completed' && archive.commit
      ? h(
          'p',
          { class: 'card-actions' },
          h(
            'a',
            { href: `/archives/${encodeURIComponent(archive.id)}/files`, class: 'button button-primary', 'data-testid': 'browse-files' },
            'Browse files',
          ),
        )
      : null,
    archive.consoleUrl
      ? h(
          'p',
          { class: 'card-actions' },
          h(
            'a',
            {
              href: archive.consoleUrl,
              target: '_blank',
              rel: 'noopener noreferrer',
              class: 'button button-secondary',
              'data-external': '',
            },
            'Open in MinIO console ↗',
          ),
        )
      : null,
  );
}

/** How long the page keeps asking while a worker builds one bundle from a snapshot's increments. */
const BUNDLE_WAIT_ROUNDS = 12;

/** Download + restore instructions; survives re-renders so a fetched link stays on screen. */
function restoreCard(ctx, initial) {
  let archive = initial;
  const commandCode = h('code', { 'data-testid': 'clone-command' });
  const command = h(
    'div',
    { class: 'command', hidden: true },
    h('pre', {}, commandCode),
    copyButton(() => commandCode.textContent, 'Copy command'),
  );
  const scriptCode = h('code', { 'data-testid': 'restore-script' });
  const script = h(
    'div',
    { class: 'command', hidden: true },
    h('p', { class: 'hint' }, 'Save it as restore.sh and run sh restore.sh — it needs only curl and git; its links work for an hour.'),
    h('pre', {}, scriptCode),
    copyButton(() => scriptCode.textContent, 'Copy script'),
  );
  const message = h('div', { 'aria-live': 'polite' });
  const button = h('button', { type: 'button', class: 'button button-primary', 'data-testid': 'download-bundle' }, 'Download bundle');
  const scriptButton = h('button', { type: 'button', class: 'button', 'data-testid': 'show-restore-script' }, 'Restore script');
  const intro = h('p', { class: 'hint' });
  const element = h(
    'section',
    { class: 'card', 'aria-labelledby': 'restore-title' },
    h('h2', { class: 'card-title', id: 'restore-title' }, 'Restore'),
    intro,
    h('div', { class: 'card-actions' }, button, scriptButton),
    message,
    command,
    script,
  );

  /** A snapshot stored as increments gets one bundle built by a worker: ask again while it is. */
  async function bundleLink() {
    for (let round = 1; ; round++) {
      try {
        return await ctx.api.downloadLink(archive.id);
      } catch (error) {
        if (error.code !== 'BUNDLE_PREPARING' || round >= BUNDLE_WAIT_ROUNDS) throw error;
        button.textContent = 'Building one bundle from its increments…';
        await new Promise((resolve) => setTimeout(resolve, (error.retryAfterSeconds ?? 5) * 1000));
      }
    }
  }

  button.addEventListener('click', async () => {
    button.disabled = true;
    button.textContent = 'Preparing link…';
    try {
      const link = await bundleLink();
      commandCode.textContent = link.cloneCommand;
      command.hidden = false;
      const minutes = Math.max(1, Math.round(link.expiresInSeconds / 60));
      const anchor = h(
        'a',
        { href: link.url, download: 'repo.bundle', rel: 'noopener', 'data-external': '', 'data-testid': 'bundle-link' },
        'repo.bundle',
      );
      mount(
        message,
        notice('success', 'Your download has started. If it did not, use this link: ', anchor, ` (valid for ${minutes} min).`),
      );
      anchor.click();
    } catch (error) {
      mount(message, notice('error', error.message));
    } finally {
      button.textContent = 'Download bundle';
      button.disabled = archive.status !== 'completed';
    }
  });

  scriptButton.addEventListener('click', async () => {
    scriptButton.disabled = true;
    try {
      const plan = await ctx.api.restorePlan(archive.id);
      scriptCode.textContent = plan.script;
      script.hidden = false;
    } catch (error) {
      mount(message, notice('error', error.message));
    } finally {
      scriptButton.disabled = archive.status !== 'completed';
    }
  });

  return {
    element,
    update(next) {
      archive = next;
      const ready = archive.status === 'completed';
      button.disabled = !ready;
      scriptButton.disabled = !ready;
      if (ready && !archive.commit) {
        button.hidden = true;
        intro.textContent = 'This repository had no commits, so there is no bundle to download.';
      } else {
        intro.textContent = ready
          ? 'Download one bundle of every branch and tag and restore it with git clone, or get a script that rebuilds this snapshot with curl and git:'
          : 'The bundle can be downloaded once the archive has completed.';
      }
    },
  };
}

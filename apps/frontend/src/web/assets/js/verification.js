// Restore drills in the web interface: a snapshot's last drill (passed, failed with the
// reason, or never run), a "Verify now" control on its page, and the mark a visit whose drill
// failed carries on the repository's page.
import { card, notice } from './components.js';
import { h, mount, announce } from './dom.js';
import { formatDateTime } from './format.js';

const LABELS = { unverified: 'Not verified yet', passed: 'Restore verified', failed: 'Restore check failed' };
/** How long the card waits for a requested drill's result before it asks the person to reload. */
const WAIT_MS = 10 * 60 * 1000;
const POLL_MS = 2000;

export function verificationBadge(verification) {
  const status = verification?.status ?? 'unverified';
  return h('span', { class: `badge badge-verify-${status}`, 'data-verification': status }, LABELS[status]);
}

/** The reason a drill failed, for a visit of the repository's timeline; null unless it failed. */
export function verificationProblem(verification) {
  if (verification?.status !== 'failed' || !verification.error) return null;
  return h(
    'p',
    { class: 'visit-text visit-error visit-verify-failed', 'data-testid': 'verify-failed' },
    h('strong', {}, 'Restore check failed: '),
    verification.error.message,
    h('span', { class: 'error-code' }, ` (${verification.error.code})`),
  );
}

function summary(verification) {
  if (!verification || verification.status === 'unverified') {
    return h('p', { class: 'muted' }, 'No restore drill has run on this snapshot yet.');
  }
  if (verification.status === 'passed') {
    return h('p', {}, `Restored, checked with git fsck, refs and every stored file matched on ${formatDateTime(verification.verifiedAt)}.`);
  }
  return notice(
    'error',
    h('strong', {}, `Checked ${formatDateTime(verification.checkedAt)}: `),
    verification.error?.message ?? 'the restore failed',
    h('span', { class: 'error-code' }, ` (${verification.error?.code ?? 'UNKNOWN'})`),
  );
}

/** The archive page's card; `update(archive)` shows a newer result. */
export function verificationCard(ctx, archive) {
  const status = h('div', { 'data-testid': 'verification' });
  const problem = h('div');
  const button = h('button', { type: 'button', class: 'button button-secondary', 'data-testid': 'verify-now' }, 'Verify now');
  let current = archive.verification;
  let waiting = false;

  const render = () => mount(status, verificationBadge(current), summary(current));
  render();

  button.addEventListener('click', async () => {
    if (waiting) return;
    waiting = true;
    button.disabled = true;
    button.textContent = 'Verifying…';
    mount(problem);
    const before = current?.checkedAt ?? null;
    try {
      await ctx.api.verifyArchive(archive.id);
      const deadline = Date.now() + WAIT_MS;
      while (button.isConnected && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        const latest = (await ctx.api.getArchive(archive.id)).verification;
        if (latest.checkedAt !== before) {
          current = latest;
          render();
          announce(LABELS[latest.status]);
          break;
        }
      }
    } catch (error) {
      mount(problem, notice('error', `Could not verify: ${error.message}`));
    } finally {
      waiting = false;
      if (button.isConnected) {
        button.disabled = false;
        button.textContent = 'Verify now';
      }
    }
  });

  return {
    element: card('Restore check', status, h('div', { class: 'verify-actions' }, button), problem),
    update(next) {
      if (next.verification && next.verification.checkedAt !== current?.checkedAt) {
        current = next.verification;
        render();
      }
    },
  };
}

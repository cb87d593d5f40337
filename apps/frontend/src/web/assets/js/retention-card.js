// "Retention" of one tracked repository: which snapshots a policy keeps (restic's rules: the
// last N, the newest of each of the last N days, ISO weeks and months, in UTC), tried as a dry
// run before anything is removed (GET …/retention/preview, open to everyone who sees the
// repository), then set and applied by an admin (PUT …/retention, POST …/prune). Built once per
// page and updated in place, so a refresh of the page never resets what someone is typing.
import { card, notice } from './components.js';
import { h, mount, uid } from './dom.js';
import { formatBytes, formatDateTime, formatNumber } from './format.js';

const FIELDS = [
  ['keepLast', 'Last', 'snapshots, newest first'],
  ['keepDaily', 'Daily', 'days (newest of each)'],
  ['keepWeekly', 'Weekly', 'ISO weeks'],
  ['keepMonthly', 'Monthly', 'months'],
];

export function retentionCard(ctx, repositoryId) {
  const isAdmin = ctx.session.isAdmin;
  const summary = h('div', { 'data-testid': 'retention-policy' });
  const result = h('div', { 'aria-live': 'polite', 'data-testid': 'retention-result' });
  const inputs = Object.fromEntries(
    FIELDS.map(([name]) => [
      name,
      h('input', { type: 'number', min: '0', step: '1', inputmode: 'numeric', class: 'input input-narrow', name }),
    ]),
  );
  const preview = h('button', { type: 'submit', class: 'button button-secondary' }, 'Preview');
  const save = isAdmin
    ? h('button', { type: 'button', class: 'button button-primary', 'data-action': 'save-retention' }, 'Save policy')
    : null;
  const prune = isAdmin ? h('button', { type: 'button', class: 'button button-danger', 'data-action': 'prune' }, 'Prune now') : null;
  let shownPolicyKey;

  const form = h(
    'form',
    { class: 'retention-form', novalidate: true },
    h(
      'div',
      { class: 'retention-fields' },
      FIELDS.map(([name, label, hint]) => {
        const id = uid(`retention-${name}`);
        inputs[name].id = id;
        return h('div', { class: 'field-inline' }, h('label', { for: id }, label), inputs[name], h('span', { class: 'hint' }, hint));
      }),
    ),
    h('p', { class: 'hint' }, 'All zero keeps every snapshot (the default). The newest snapshot is always kept.'),
    h('div', { class: 'form-actions' }, preview, save, prune),
  );

  /** The counts typed, or an error naming the first field that is not a whole number ≥ 0. */
  function typedPolicy() {
    const policy = {};
    for (const [name, label] of FIELDS) {
      const text = inputs[name].value.trim();
      const value = text === '' ? 0 : Number(text);
      if (!Number.isInteger(value) || value < 0) return { error: `${label}: enter a whole number, 0 or more.`, field: inputs[name] };
      policy[name] = value;
    }
    return { policy };
  }

  async function attempt(action) {
    try {
      await action();
    } catch (error) {
      mount(result, notice(error.status === 409 ? 'warning' : 'error', error.message));
    }
  }

  /** Runs `action` with the typed policy, or says which field is wrong. */
  async function run(action) {
    const typed = typedPolicy();
    if (typed.error) {
      mount(result, notice('error', typed.error));
      typed.field.focus();
      return;
    }
    await attempt(() => action(typed.policy));
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void run(async (policy) => mount(result, planView(await ctx.api.retentionPreview(repositoryId, policy))));
  });
  save?.addEventListener('click', () =>
    run(async (policy) => {
      const saved = await ctx.api.setRetention(repositoryId, policy);
      shownPolicyKey = undefined;
      setRepository({ retention: saved });
      mount(
        result,
        notice(
          'success',
          keepsEverything(policy) ? 'Saved: every snapshot is kept.' : 'Saved. Prunes run on the schedule, or now with “Prune now”.',
        ),
      );
    }),
  );
  // Prunes by the saved policy, whatever is typed: the button says so in its result.
  prune?.addEventListener('click', () =>
    attempt(async () => {
      await ctx.api.pruneRepository(repositoryId);
      mount(result, notice('success', 'Prune queued: it waits for running visits, then removes what the saved policy does not keep.'));
    }),
  );

  /** Shows the stored policy and the last prune; fills the fields once, not on every refresh. */
  function setRepository(repository) {
    const retention = repository.retention ?? { policy: null, lastPrunedAt: null, lastPrune: null };
    const policy = retention.policy;
    const key = JSON.stringify(policy);
    if (key !== shownPolicyKey) {
      shownPolicyKey = key;
      for (const [name] of FIELDS) inputs[name].value = String(policy?.[name] ?? 0);
    }
    mount(
      summary,
      h('p', {}, h('strong', {}, 'Policy: '), policyText(policy)),
      retention.lastPrunedAt
        ? h('p', { class: 'hint' }, `Last pruned ${formatDateTime(retention.lastPrunedAt)}${lastPruneText(retention.lastPrune)}`)
        : null,
    );
  }

  return { element: card('Retention', summary, form, result), setRepository };
}

const keepsEverything = (policy) => !policy || FIELDS.every(([name]) => !policy[name]);

function policyText(policy) {
  if (keepsEverything(policy)) return 'keep every snapshot';
  const parts = FIELDS.filter(([name]) => policy[name] > 0).map(([name, label]) => `${label.toLowerCase()} ${formatNumber(policy[name])}`);
  return `keep ${parts.join(', ')}`;
}

function lastPruneText(lastPrune) {
  if (!lastPrune) return '';
  return `: ${formatNumber(lastPrune.removed ?? 0)} removed, ${formatNumber(lastPrune.kept ?? 0)} kept, ${formatBytes(lastPrune.bytesFreed ?? 0)} freed`;
}

/** The dry run: what stays (and why), what goes, and what it frees. */
function planView(plan) {
  const headline =
    plan.removedCount === 0
      ? 'Nothing would be removed.'
      : `${formatNumber(plan.removedCount)} of ${formatNumber(plan.removedCount + plan.keep.length)} snapshots would be removed, freeing ${formatBytes(plan.removedBytes)} (${formatNumber(plan.removedObjects)} stored files no kept snapshot needs).`;
  return h(
    'div',
    { class: 'retention-plan' },
    notice(plan.removedCount === 0 ? 'info' : 'warning', headline),
    h(
      'details',
      {},
      h('summary', {}, `Kept: ${formatNumber(plan.keep.length)}`),
      h(
        'ul',
        { class: 'plain-list', 'data-testid': 'retention-kept' },
        plan.keep.map((kept) =>
          h(
            'li',
            { 'data-id': kept.archiveId },
            h('a', { href: `/archives/${encodeURIComponent(kept.archiveId)}` }, h('code', {}, kept.archiveId.slice(0, 8))),
            ` — ${kept.reasons.join(', ')}; restore afterwards: ${kept.chainAfter}`,
          ),
        ),
      ),
    ),
    plan.prune.length > 0
      ? h(
          'details',
          {},
          h('summary', {}, `Removed: ${formatNumber(plan.prune.length)}`),
          h(
            'ul',
            { class: 'plain-list', 'data-testid': 'retention-removed' },
            plan.prune.map((pruned) => h('li', { 'data-id': pruned.archiveId }, h('code', {}, pruned.archiveId))),
          ),
        )
      : null,
  );
}

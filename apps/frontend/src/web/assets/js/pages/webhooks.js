// "/webhooks": the endpoints that hear about failed visits, force-pushes and the like — add,
// pause, test and delete them, and see each one's recent deliveries (status, attempts, the last
// error). Admins can switch to everyone's (`/webhooks?view=all`).
import { card, notice, spinner } from '../components.js';
import { h, mount } from '../dom.js';
import { formatDateTime, formatRelative } from '../format.js';
import { poll } from '../poller.js';
import { WEBHOOK_EVENT_LABELS, webhookForm } from '../webhook-form.js';

const REFRESH_MS = 5000;
const DELIVERIES_SHOWN = 10;

export function webhooksPage(view, ctx) {
  ctx.setTitle('Webhooks');
  const all = ctx.session.isAdmin && ctx.query.get('view') === 'all';
  const list = h('div', { 'data-testid': 'webhook-list' }, spinner('Loading webhooks…'));
  const messages = h('div', { 'aria-live': 'polite', 'data-testid': 'webhook-messages' });
  const say = (kind, text) => mount(messages, notice(kind, text));
  let signature;

  async function load() {
    let page;
    try {
      page = await ctx.api.listWebhooks({ scope: all ? 'all' : 'mine', pageSize: 100 });
    } catch (error) {
      mount(list, notice('error', `Could not load the webhooks: ${error.message}`));
      throw error;
    }
    const withDeliveries = await Promise.all(
      page.items.map(async (webhook) => {
        try {
          return { webhook, deliveries: (await ctx.api.webhookDeliveries(webhook.id, { pageSize: DELIVERIES_SHOWN })).items };
        } catch (error) {
          return { webhook, deliveriesError: error.message };
        }
      }),
    );
    // Only redraw on a change, so a focused button keeps its focus between refreshes.
    const next = JSON.stringify(withDeliveries);
    if (next === signature) return;
    signature = next;
    mount(
      list,
      withDeliveries.length === 0
        ? h(
            'p',
            { class: 'empty' },
            all ? 'Nobody has registered a webhook yet.' : 'No webhooks yet. Add one above to hear about failures.',
          )
        : withDeliveries.map((entry) => endpoint(entry)),
    );
  }

  function endpoint({ webhook, deliveries, deliveriesError }) {
    const toggle = h(
      'button',
      { type: 'button', class: 'button button-quiet button-small', 'data-action': webhook.active ? 'pause' : 'activate' },
      webhook.active ? 'Pause' : 'Activate',
    );
    toggle.addEventListener('click', () =>
      act(toggle, () => ctx.api.updateWebhook(webhook.id, { active: !webhook.active }), webhook.active ? 'Paused.' : 'Active again.'),
    );
    const test = h('button', { type: 'button', class: 'button button-secondary button-small', 'data-action': 'test' }, 'Send a test');
    test.addEventListener('click', () => act(test, () => ctx.api.testWebhook(webhook.id), 'A ping delivery is queued; it appears below.'));
    const remove = h('button', { type: 'button', class: 'button button-danger button-small', 'data-action': 'delete' }, 'Delete');
    remove.addEventListener('click', () => {
      if (!window.confirm(`Delete the webhook to ${webhook.url} and its delivery records?`)) return;
      void act(remove, () => ctx.api.deleteWebhook(webhook.id), `The webhook to ${webhook.url} is deleted.`);
    });
    return h(
      'article',
      { class: 'webhook', 'data-id': webhook.id },
      h(
        'div',
        { class: 'webhook-head' },
        h('code', { class: 'webhook-url', 'data-testid': 'webhook-url' }, webhook.url),
        h(
          'span',
          { class: `badge ${webhook.active ? 'badge-completed' : 'badge-pending'}`, 'data-testid': 'webhook-active' },
          webhook.active ? 'Active' : 'Paused',
        ),
        all ? h('span', { class: 'muted', 'data-testid': 'webhook-owner' }, webhook.owner?.name ?? webhook.owner?.subject) : null,
      ),
      h(
        'p',
        { class: 'webhook-events', 'data-testid': 'webhook-events' },
        webhook.events.map((event) => WEBHOOK_EVENT_LABELS[event] ?? event).join(' · '),
        webhook.allRepositories ? h('span', { class: 'muted' }, ' · every repository') : null,
      ),
      h('div', { class: 'card-actions' }, test, toggle, remove),
      deliveriesError ? notice('error', `Could not load its deliveries: ${deliveriesError}`) : deliveryTable(deliveries),
    );
  }

  async function act(button, call, done) {
    button.disabled = true;
    try {
      await call();
      say('success', done);
      await poller.refresh();
    } catch (error) {
      say('error', error.message);
    } finally {
      button.disabled = false;
    }
  }

  const form = webhookForm(ctx, { onCreated: () => poller.refresh() });
  mount(
    view,
    h(
      'div',
      { class: 'page-head' },
      h('h1', {}, 'Webhooks'),
      h(
        'p',
        { class: 'lead' },
        'The archiver POSTs a signed JSON notification (header X-Archiver-Signature-256: HMAC-SHA256 of the body under the secret) to each active endpoint when something happens to a repository it hears about.',
      ),
    ),
    form,
    messages,
    card(all ? 'All webhooks' : 'My webhooks', ctx.session.isAdmin ? viewSwitch(all) : null, list),
  );
  const poller = poll(load, REFRESH_MS);
  return () => poller.stop();
}

function deliveryTable(deliveries) {
  if (deliveries.length === 0) return h('p', { class: 'hint', 'data-testid': 'no-deliveries' }, 'No deliveries yet.');
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'table', 'data-testid': 'deliveries' },
      h('caption', { class: 'visually-hidden' }, 'Recent deliveries, newest first'),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Event', 'Status', 'Attempts', 'Last error', 'Time'].map((label) => h('th', { scope: 'col' }, label)),
        ),
      ),
      h(
        'tbody',
        {},
        deliveries.map((delivery) =>
          h(
            'tr',
            { 'data-id': delivery.id, 'data-status': delivery.status },
            h('td', {}, h('code', {}, delivery.event)),
            h('td', {}, h('span', { class: `badge badge-${deliveryBadge(delivery.status)}` }, delivery.status)),
            h('td', {}, String(delivery.attempts)),
            h('td', { class: 'break', 'data-testid': 'delivery-error' }, lastError(delivery)),
            h(
              'td',
              { title: formatDateTime(delivery.lastAttemptAt ?? delivery.createdAt) },
              formatRelative(delivery.lastAttemptAt ?? delivery.createdAt),
            ),
          ),
        ),
      ),
    ),
  );
}

function deliveryBadge(status) {
  if (status === 'delivered') return 'completed';
  if (status === 'failed') return 'failed';
  return 'queued';
}

function lastError(delivery) {
  if (delivery.lastError) return delivery.lastError;
  return delivery.status === 'delivered' ? `— (HTTP ${delivery.lastStatusCode})` : '—';
}

function viewSwitch(all) {
  const link = (href, label, current) => h('a', { href, class: 'view-switch-link', 'aria-current': current ? 'page' : undefined }, label);
  return h(
    'nav',
    { class: 'view-switch', 'aria-label': 'Whose webhooks' },
    link('/webhooks', 'My webhooks', !all),
    link('/webhooks?view=all', 'All webhooks', all),
  );
}

// "/imports": import every repository of a forge's user or organization (POST /api/imports) and
// follow your imports. The token is sent once and never kept in the browser.
import { card, notice, spinner } from '../components.js';
import { h, mount, uid } from '../dom.js';
import { formatRelative } from '../format.js';
import { IMPORT_ACTIVE_STATES, IMPORT_STATE_BADGES, IMPORT_STATE_LABELS, importErrorText } from '../import-labels.js';
import { poll } from '../poller.js';

const ACTIVE_REFRESH_MS = 2000;

export function importsPage(view, ctx) {
  ctx.setTitle('Imports');
  const list = h('div', { 'data-testid': 'import-list' }, spinner('Loading imports…'));
  let signature;
  let poller;

  async function load() {
    let page;
    try {
      page = await ctx.api.listImports({ pageSize: 50 });
    } catch (error) {
      mount(list, notice('error', `Could not load your imports: ${error.message}`));
      throw error;
    }
    // Poll only while one is still running; a finished list needs no refreshing.
    if (!page.items.some((item) => IMPORT_ACTIVE_STATES.has(item.state))) poller?.stop();
    const next = JSON.stringify(page.items);
    if (next === signature) return;
    signature = next;
    mount(list, page.items.length === 0 ? h('p', { class: 'empty' }, 'No imports yet. Start one above.') : importTable(page.items));
  }

  const restart = () => {
    poller?.stop();
    poller = poll(load, ACTIVE_REFRESH_MS);
  };

  mount(
    view,
    h(
      'div',
      { class: 'page-head' },
      h('h1', {}, 'Imports'),
      h('p', { class: 'lead' }, 'Track every repository of a Gitea, GitLab or GitHub user or organization at once.'),
    ),
    importForm(ctx, { onCreated: (created) => ctx.navigate(`/imports/${encodeURIComponent(created.id)}`) }),
    card('My imports', list),
  );
  restart();
  return () => poller?.stop();
}

function importTable(items) {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'table', 'data-testid': 'imports' },
      h('caption', { class: 'visually-hidden' }, 'Your imports, newest first'),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Owner', 'State', 'Repositories', 'Started'].map((label) => h('th', { scope: 'col' }, label)),
        ),
      ),
      h(
        'tbody',
        {},
        items.map((item) =>
          h(
            'tr',
            { 'data-id': item.id },
            h(
              'td',
              {},
              h('a', { href: `/imports/${encodeURIComponent(item.id)}` }, `${item.owner}`),
              h('span', { class: 'muted' }, ` · ${item.forge} · ${item.baseUrl}`),
            ),
            h(
              'td',
              {},
              stateBadge(item.state),
              item.errorCode ? h('div', { class: 'field-error' }, importErrorText(item.errorCode, item.error)) : null,
            ),
            h('td', {}, countsText(item.counts)),
            h('td', { title: item.createdAt }, formatRelative(item.createdAt)),
          ),
        ),
      ),
    ),
  );
}

export function stateBadge(state) {
  return h(
    'span',
    { class: `badge badge-${IMPORT_STATE_BADGES[state] ?? 'pending'}`, 'data-state': state, 'data-testid': 'import-state' },
    h('span', { class: 'badge-dot', 'aria-hidden': 'true' }),
    IMPORT_STATE_LABELS[state] ?? state,
  );
}

export function countsText(counts) {
  if (!counts) return '';
  const tracked = (counts.tracked ?? 0) + (counts.already_tracked ?? 0);
  const skipped = (counts.skipped_fork ?? 0) + (counts.skipped_archived ?? 0) + (counts.excluded ?? 0);
  return `${counts.total} listed · ${tracked} tracked · ${skipped} skipped · ${counts.failed ?? 0} failed · ${counts.pending ?? 0} pending`;
}

function field(label, input, hint) {
  return h(
    'div',
    { class: 'credential-field' },
    h('label', { for: input.id, class: 'label' }, label),
    input,
    hint ? h('p', { class: 'hint' }, hint) : null,
  );
}

function importForm(ctx, { onCreated }) {
  const forge = h(
    'select',
    { id: uid('forge'), name: 'forge', class: 'input' },
    h('option', { value: 'gitea' }, 'Gitea'),
    h('option', { value: 'gitlab' }, 'GitLab'),
    h('option', { value: 'github' }, 'GitHub'),
  );
  const text = (name, placeholder) =>
    h('input', { id: uid(name), name, type: 'text', class: 'input', placeholder, spellcheck: 'false', autocomplete: 'off' });
  const baseUrl = text('baseUrl', 'https://git.example.org');
  const owner = text('owner', 'my-organization');
  const token = h('input', { id: uid('token'), name: 'token', type: 'password', class: 'input', autocomplete: 'off', spellcheck: 'false' });
  const include = text('include', 'api-*');
  const exclude = text('exclude', '{old,tmp}-*');
  const forks = h('input', { type: 'checkbox', name: 'includeForks' });
  const archived = h('input', { type: 'checkbox', name: 'includeArchived' });
  const submit = h('button', { type: 'submit', class: 'button' }, 'Import');
  const result = h('div', { 'aria-live': 'polite', 'data-testid': 'import-result' });

  const form = h(
    'form',
    { class: 'form', novalidate: true, 'data-testid': 'import-form' },
    field('Forge', forge),
    field('Base URL', baseUrl, 'Gitea and GitLab: the server’s root address. GitHub: the API root, https://api.github.com.'),
    field('Owner', owner, 'The user or organization (GitLab: the group path).'),
    field(
      'Token (optional)',
      token,
      'Needed for private repositories; kept encrypted on the server as their credential, never in this browser.',
    ),
    field('Include (glob, optional)', include),
    field('Exclude (glob, optional)', exclude),
    h('label', { class: 'check' }, forks, ' Include forks'),
    h('label', { class: 'check' }, archived, ' Include archived repositories'),
    h('div', { class: 'form-actions' }, submit),
    result,
  );

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    mount(result);
    const body = { forge: forge.value, baseUrl: baseUrl.value.trim(), owner: owner.value.trim() };
    if (!/^https?:\/\/\S+$/i.test(body.baseUrl)) {
      mount(result, notice('error', 'Enter the forge’s http(s) address, e.g. https://git.example.org.'));
      baseUrl.focus();
      return;
    }
    if (!body.owner) {
      mount(result, notice('error', 'Enter the user or organization whose repositories to import.'));
      owner.focus();
      return;
    }
    if (token.value) body.token = token.value;
    if (include.value.trim()) body.include = include.value.trim();
    if (exclude.value.trim()) body.exclude = exclude.value.trim();
    body.includeForks = forks.checked;
    body.includeArchived = archived.checked;
    // The token leaves the page with this request and nowhere else.
    token.value = '';
    submit.disabled = true;
    try {
      const created = await ctx.api.createImport(body);
      await onCreated(created);
    } catch (error) {
      mount(result, notice('error', `Could not start the import: ${importErrorText(error.code, error.message)}`));
    } finally {
      submit.disabled = false;
    }
  });
  return card('Import an organization', form);
}

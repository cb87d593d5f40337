// Small building blocks shared by the pages.
import { h, uid } from './dom.js';
import { STATUS_LABELS } from './format.js';

export function statusBadge(status) {
  return h(
    'span',
    { class: `badge badge-${status}`, 'data-status': status },
    h('span', { class: 'badge-dot', 'aria-hidden': 'true' }),
    STATUS_LABELS[status] ?? status,
  );
}

/** A message box; `role="alert"` for errors so they are read out as they appear. */
export function notice(kind, ...content) {
  return h('div', { class: `notice notice-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, content);
}

export function spinner(label = 'Loading…') {
  return h('div', { class: 'loading', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), h('span', {}, label));
}

export function card(title, ...content) {
  const headingId = uid('card');
  return h('section', { class: 'card', 'aria-labelledby': headingId }, h('h2', { id: headingId, class: 'card-title' }, title), content);
}

/** "Previous · Page 2 of 5 · Next"; calls `onPage(n)`. */
export function pagination({ page, pageSize, total }, onPage) {
  const pages = Math.max(1, Math.ceil(total / pageSize));
  const first = total === 0 ? 0 : (page - 1) * pageSize + 1;
  const last = Math.min(total, page * pageSize);
  const prev = h(
    'button',
    { type: 'button', class: 'button button-quiet', disabled: page <= 1, onClick: () => onPage(page - 1) },
    '‹ Previous',
  );
  const next = h(
    'button',
    { type: 'button', class: 'button button-quiet', disabled: page >= pages, onClick: () => onPage(page + 1) },
    'Next ›',
  );
  return h(
    'nav',
    { class: 'pagination', 'aria-label': 'Pages' },
    h('span', { class: 'pagination-info' }, total === 0 ? 'No archives' : `${first}–${last} of ${total}`),
    h('span', { class: 'pagination-buttons' }, prev, h('span', { class: 'pagination-page' }, `Page ${page} of ${pages}`), next),
  );
}

/** A copy-to-clipboard button for `text`; says "Copied" for a moment (and to screen readers). */
export function copyButton(getText, label = 'Copy') {
  const status = h('span', { class: 'visually-hidden', role: 'status' });
  const button = h('button', { type: 'button', class: 'button button-secondary button-small' }, label);
  button.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(getText());
      button.textContent = 'Copied';
      status.textContent = 'Copied to the clipboard';
    } catch {
      button.textContent = 'Select and copy';
      status.textContent = 'Copying is not allowed here; select the text and copy it';
    }
    setTimeout(() => {
      button.textContent = label;
      status.textContent = '';
    }, 2000);
  });
  return h('span', { class: 'copy' }, button, status);
}

/** The labelled status <select> used above archive tables. */
export function statusFilter(value, onChange) {
  const id = uid('status-filter');
  const select = h(
    'select',
    { id, class: 'select', name: 'status' },
    h('option', { value: '' }, 'All statuses'),
    Object.entries(STATUS_LABELS).map(([status, label]) => h('option', { value: status, selected: status === value }, label)),
  );
  select.addEventListener('change', () => onChange(select.value));
  return h('div', { class: 'field-inline' }, h('label', { for: id }, 'Status'), select);
}

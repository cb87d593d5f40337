// "/admin": every archive, with delete. Only for archiver-admin; the API enforces the same
// rule (DELETE answers 403 to others), this page just explains it instead of failing.
import { archiveTable } from '../archive-table.js';
import { card, notice } from '../components.js';
import { h, mount } from '../dom.js';
import { formatDateTime, shortUrl } from '../format.js';
import { notAllowedPage } from './messages.js';

export function adminPage(view, ctx) {
  if (!ctx.session.isAdmin) return notAllowedPage(view, ctx);
  ctx.setTitle('Admin');
  const status = h('div', { 'aria-live': 'polite' });
  const openBoard = async () => {
    try {
      await ctx.api.openQueueBoard();
      window.location.assign('/admin/queues');
    } catch (error) {
      mount(status, notice('error', `Could not open the queue dashboard: ${error.message}`));
    }
  };
  const boardButton = h(
    'button',
    { type: 'button', class: 'button button-secondary', 'data-testid': 'open-queue-board' },
    'Queue dashboard',
  );
  boardButton.addEventListener('click', openBoard);
  // The dashboard sends people here when its sign-in expired: renew it and go straight back.
  if (ctx.query.get('board') === 'open') void openBoard();
  const dialog = confirmDialog();
  const list = archiveTable(ctx, {
    caption: 'All archives, newest first',
    scope: 'all',
    emptyText: 'Nobody has archived anything yet.',
    onDelete: async (archive, refresh) => {
      const confirmed = await dialog.ask(archive);
      if (!confirmed) return;
      try {
        await ctx.api.deleteArchive(archive.id);
        const done = notice('success', `Deleted the archive of ${shortUrl(archive.url)} from ${formatDateTime(archive.createdAt)}.`);
        mount(status, done);
        // Its row (and the focused Delete button) is about to disappear: keep focus somewhere useful.
        done.setAttribute('tabindex', '-1');
        done.focus();
      } catch (error) {
        mount(status, notice('error', `Could not delete the archive of ${shortUrl(archive.url)}: ${error.message}`));
      }
      await refresh();
    },
  });
  mount(
    view,
    h(
      'div',
      { class: 'page-head' },
      h('h1', {}, 'Admin'),
      h(
        'p',
        { class: 'lead' },
        'Everyone’s archives. Deleting one removes its snapshot from MinIO, and the bucket when it was the last snapshot.',
      ),
      h('p', {}, boardButton, ' every queue’s jobs (bull-board): waiting, active, failed with their reasons, retry and clean.'),
    ),
    status,
    card('All archives', list.element),
    dialog.element,
  );
  return () => list.dispose();
}

/** A modal <dialog>: focus moves into it, Escape cancels, and focus returns to the button that opened it. */
function confirmDialog() {
  const text = h('p', { id: 'confirm-text' });
  const cancel = h('button', { type: 'button', class: 'button button-secondary', value: 'cancel' }, 'Cancel');
  const confirm = h('button', { type: 'button', class: 'button button-danger', value: 'delete' }, 'Delete archive');
  const element = h(
    'dialog',
    { class: 'dialog', 'aria-labelledby': 'confirm-title', 'aria-describedby': 'confirm-text' },
    h('h2', { id: 'confirm-title', class: 'dialog-title' }, 'Delete this archive?'),
    text,
    h('div', { class: 'dialog-actions' }, cancel, confirm),
  );
  let resolve;
  const close = (value) => {
    element.close();
    resolve?.(value);
    resolve = undefined;
  };
  cancel.addEventListener('click', () => close(false));
  confirm.addEventListener('click', () => close(true));
  element.addEventListener('cancel', () => {
    resolve?.(false);
    resolve = undefined;
  });
  return {
    element,
    ask(archive) {
      text.textContent = `The snapshot of ${archive.url} taken ${formatDateTime(archive.createdAt)} will be removed from storage. This cannot be undone.`;
      const opener = document.activeElement;
      element.showModal();
      cancel.focus();
      return new Promise((r) => {
        resolve = (value) => {
          r(value);
          if (opener instanceof HTMLElement && opener.isConnected) opener.focus();
        };
      });
    },
  };
}

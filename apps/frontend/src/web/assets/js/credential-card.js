// A repository's credential on its own page: "Credential: set · token · last used 3 h ago" with
// Replace and Remove, or "none" with Add. It stays one element across the page's refreshes
// (`update`), so a person typing a new credential does not lose it when the visits reload.
import { card, notice } from './components.js';
import { CREDENTIAL_KIND_LABELS, credentialFields, credentialProblem, enterAgain } from './credential-fields.js';
import { h, mount } from './dom.js';
import { formatDateTime, formatRelative } from './format.js';
import { repositoryUrlKind } from './repository-url.js';

/** Failed-visit codes that a change of credential fixes. */
const CREDENTIAL_CODES = new Set(['AUTH_REQUIRED', 'HOST_KEY_CHANGED']);

export function credentialCard(ctx, { onChanged }) {
  let repository;
  let refused = false;
  const status = h('p', { class: 'credential-status', 'data-testid': 'credential-status' });
  const visitProblem = h('div', { 'data-testid': 'credential-visit-problem' });
  const messages = h('div', { 'aria-live': 'polite', 'data-testid': 'credential-messages' });
  const fields = credentialFields({ urlKind: () => repositoryUrlKind(repository?.url ?? '') });
  const save = h('button', { type: 'submit', class: 'button button-primary' }, 'Save credential');
  const cancel = h('button', { type: 'button', class: 'button button-quiet' }, 'Cancel');
  const form = h(
    'form',
    { class: 'credential-form', novalidate: true, hidden: true },
    fields.element,
    h('div', { class: 'form-actions' }, save, cancel),
  );
  const replace = h('button', { type: 'button', class: 'button button-secondary button-small', 'data-action': 'credential-replace' });
  const remove = h('button', { type: 'button', class: 'button button-quiet button-small', 'data-action': 'credential-remove' }, 'Remove');
  const controls = h('div', { class: 'card-actions' }, replace, remove);

  function openForm() {
    form.hidden = false;
    controls.hidden = true;
    fields.matchUrl();
    fields.focus();
  }
  function closeForm() {
    fields.clear();
    fields.setError('');
    form.hidden = true;
    controls.hidden = refused;
  }
  replace.addEventListener('click', openForm);
  cancel.addEventListener('click', closeForm);

  /** 403/404: this person may not change it (the API decides); the controls go away. */
  function refusedBy(error) {
    if (error.status !== 403 && error.status !== 404) return false;
    refused = true;
    closeForm();
    mount(messages, notice('warning', `You cannot change this repository's credential: ${error.message}`));
    return true;
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const read = fields.read();
    if (read.error) {
      fields.setError(read.error);
      read.focus?.focus();
      return;
    }
    save.disabled = true;
    save.textContent = 'Saving…';
    const request = ctx.api.setRepositoryCredential(repository.id, read.credential);
    // Sent: the secret leaves the inputs whatever the answer.
    fields.clear();
    try {
      await request;
      closeForm();
      mount(messages, notice('success', 'Credential saved. The next visit uses it.'));
      await onChanged();
    } catch (error) {
      if (refusedBy(error)) return;
      fields.setError(enterAgain(credentialProblem(error.code, error.message) ?? `Could not save it: ${error.message}`));
    } finally {
      save.disabled = false;
      save.textContent = 'Save credential';
    }
  });

  remove.addEventListener('click', async () => {
    remove.disabled = true;
    try {
      await ctx.api.setRepositoryCredential(repository.id, null);
      mount(messages, notice('success', 'Credential removed. Visits now go without one.'));
      await onChanged();
    } catch (error) {
      if (!refusedBy(error)) mount(messages, notice('error', `Could not remove the credential: ${error.message}`));
    } finally {
      remove.disabled = false;
    }
  });

  const element = card('Credential', status, visitProblem, controls, form, messages);
  element.hidden = true;

  function update(next) {
    repository = next;
    element.hidden = false;
    const credential = next.credential;
    if (credential) {
      const used = credential.lastUsedAt ? `last used ${formatRelative(credential.lastUsedAt)}` : 'not used yet';
      mount(status, h('strong', {}, 'Credential: '), `set · ${CREDENTIAL_KIND_LABELS[credential.kind] ?? credential.kind} · ${used}`);
      if (credential.lastUsedAt) status.title = `Last used ${formatDateTime(credential.lastUsedAt)}`;
    } else {
      mount(status, h('strong', {}, 'Credential: '), 'none (the repository is read without logging in)');
      status.removeAttribute('title');
    }
    replace.textContent = credential ? 'Replace' : 'Add a credential';
    remove.hidden = !credential;
    controls.hidden = refused || !form.hidden;
    const failed = next.visits?.items?.find((visit) => visit.status === 'failed' || visit.status === 'completed');
    const code = failed?.status === 'failed' ? failed.error?.code : undefined;
    mount(
      visitProblem,
      CREDENTIAL_CODES.has(code)
        ? h('p', { class: 'field-error', 'data-code': code }, credentialProblem(code, failed.error.message))
        : null,
    );
  }

  return { element, update };
}

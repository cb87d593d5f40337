// "/archives": submit repositories once, then watch them in "My archives" below. Admins can
// switch the list to "All archives" (`/archives?view=all`), which names each archive's owner.
import { archiveTable } from '../archive-table.js';
import { card, notice } from '../components.js';
import { credentialFields, credentialProblem, enterAgain } from '../credential-fields.js';
import { h, mount, uid } from '../dom.js';
import { clearDraft, loadDraft, saveDraft } from '../draft.js';
import { repositoryUrlKind } from '../repository-url.js';
import { submitResults } from '../submit-results.js';

/** The API takes at most this many URLs per batch request (issue 3). */
const BATCH_LIMIT = 100;

export function archivesPage(view, ctx) {
  ctx.setTitle('Archives');
  const all = ctx.session.isAdmin && ctx.query.get('view') === 'all';
  const list = archiveTable(ctx, {
    caption: all ? 'All archives, newest first' : 'My archives, newest first',
    scope: all ? 'all' : 'mine',
    emptyText: all ? 'Nobody has archived anything yet.' : 'No archives here yet. Submit a repository above and it appears in this list.',
  });
  const form = submitForm(ctx, () => list.refresh());
  mount(
    view,
    h(
      'div',
      { class: 'page-head' },
      h('h1', {}, 'Archives'),
      h('p', { class: 'lead' }, 'Submit git repositories to archive them into object storage, then follow each one through its stages.'),
    ),
    form.element,
    card(all ? 'All archives' : 'My archives', ctx.session.isAdmin ? viewSwitch(all) : null, list.element),
  );
  return () => {
    list.dispose();
    form.dispose();
  };
}

/** Admins only: whose archives the list shows. Links, so each view has its own address. */
function viewSwitch(all) {
  const link = (href, label, current) => h('a', { href, class: 'view-switch-link', 'aria-current': current ? 'page' : undefined }, label);
  return h(
    'nav',
    { class: 'view-switch', 'aria-label': 'Whose archives' },
    link('/archives', 'My archives', !all),
    link('/archives?view=all', 'All archives', all),
  );
}

function submitForm(ctx, onSubmitted) {
  const fieldId = uid('urls');
  const hintId = uid('urls-hint');
  const errorId = uid('urls-error');
  const textarea = h('textarea', {
    id: fieldId,
    name: 'urls',
    class: 'textarea',
    rows: '4',
    spellcheck: 'false',
    autocapitalize: 'off',
    autocomplete: 'off',
    placeholder: 'https://github.com/owner/repository.git',
    'aria-describedby': `${hintId} ${errorId}`,
  });
  const fieldError = h('p', { id: errorId, class: 'field-error', hidden: true });
  const submit = h('button', { type: 'submit', class: 'button button-primary' }, 'Archive');
  const formError = h('div');
  const results = submitResults(ctx);
  const firstUrl = () =>
    textarea.value
      .split(/\r?\n/)
      .find((line) => line.trim())
      ?.trim() ?? '';
  const credential = credentialFields({ urlKind: () => repositoryUrlKind(firstUrl()) });
  const privateRepository = h(
    'details',
    { class: 'credential-disclosure', 'data-testid': 'private-repository' },
    h('summary', {}, 'Private repository'),
    h(
      'p',
      { class: 'hint' },
      'For one URL: the credential is used for this archive only, and not kept once it has finished. To keep a private repository current, track it on the Repositories page instead.',
    ),
    credential.element,
  );
  privateRepository.addEventListener('toggle', () => {
    if (privateRepository.open) credential.matchUrl();
  });

  const form = h(
    'form',
    { class: 'submit-form', novalidate: true, 'aria-describedby': hintId },
    h('label', { for: fieldId, class: 'label' }, 'Repository URLs'),
    h(
      'p',
      { id: hintId, class: 'hint' },
      'One URL per line (http(s), or SSH such as git@host:owner/repo.git). Each URL gets its own result below.',
    ),
    textarea,
    fieldError,
    privateRepository,
    h('div', { class: 'form-actions' }, submit, h('span', { class: 'hint' }, 'Tip: Ctrl+Enter submits.')),
    formError,
    results.element,
  );
  textarea.value = loadDraft();

  textarea.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) form.requestSubmit();
  });
  textarea.addEventListener('input', () => {
    setFieldError('');
    saveDraft(textarea.value);
  });

  function setFieldError(message) {
    fieldError.textContent = message;
    fieldError.hidden = !message;
    if (message) textarea.setAttribute('aria-invalid', 'true');
    else textarea.removeAttribute('aria-invalid');
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const urls = textarea.value
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter(Boolean);
    if (urls.length === 0) {
      setFieldError('Enter at least one repository URL.');
      textarea.focus();
      return;
    }
    let secret;
    if (privateRepository.open) {
      if (urls.length > 1) {
        setFieldError('A credential goes with one repository: enter only its URL, and submit the others without it.');
        textarea.focus();
        return;
      }
      const read = credential.read();
      if (read.error) {
        credential.setError(read.error);
        (read.focus ?? textarea).focus();
        return;
      }
      secret = read.credential;
    }
    submit.disabled = true;
    submit.textContent = 'Submitting…';
    form.setAttribute('aria-busy', 'true');
    mount(formError);
    try {
      const sending = secret ? submitWithCredential(ctx.api, urls[0], secret) : submitAll(ctx.api, urls);
      // Sent: the secret leaves the inputs whatever the answer (typed again to retry).
      secret = undefined;
      credential.clear();
      const outcomes = await sending;
      const refused = outcomes.find((o) => o.kind === 'error' && credentialProblem(o.code, o.message));
      if (refused) credential.setError(enterAgain(credentialProblem(refused.code, refused.message)));
      else if (privateRepository.open && outcomes.every((o) => o.kind !== 'error')) privateRepository.open = false;
      results.show(outcomes);
      // Keep what needs attention: the lines that failed stay in the box to be fixed.
      const failed = outcomes.filter((o) => o.kind === 'error').map((o) => o.url);
      textarea.value = failed.join('\n');
      if (failed.length === 0) clearDraft();
      else saveDraft(textarea.value);
      if (failed.length > 0) textarea.focus();
      onSubmitted();
    } catch (error) {
      // Nothing reached the API (or it refused the whole request): everything typed stays.
      mount(formError, notice('error', error.message));
    } finally {
      submit.disabled = false;
      submit.textContent = 'Archive';
      form.removeAttribute('aria-busy');
    }
  });

  return { element: card('Archive repositories', form), dispose: () => results.dispose() };
}

/** One URL with its own credential: a refusal (400 bad key, 409 unfinished archive) is its result. */
async function submitWithCredential(api, url, credential) {
  try {
    const archive = await api.submit(url, credential);
    return [{ url, kind: archive.existing ? 'existing' : 'accepted', archive }];
  } catch (error) {
    if (error.status === 400 || error.status === 409) return [{ url, kind: 'error', code: error.code, message: error.message }];
    throw error;
  }
}

/** One outcome per URL: {url, kind: 'accepted'|'existing'|'error', archive?, message?}. */
async function submitAll(api, urls) {
  if (urls.length === 1) {
    try {
      const archive = await api.submit(urls[0]);
      return [{ url: urls[0], kind: archive.existing ? 'existing' : 'accepted', archive }];
    } catch (error) {
      // A refusal of this URL (400) is its result; anything else is the whole request failing.
      if (error.status === 400) return [{ url: urls[0], kind: 'error', message: error.message }];
      throw error;
    }
  }
  const outcomes = [];
  for (let i = 0; i < urls.length; i += BATCH_LIMIT) {
    const { items } = await api.submitBatch(urls.slice(i, i + BATCH_LIMIT));
    for (const item of items) {
      if (item.error) outcomes.push({ url: item.url, kind: 'error', message: item.error.message });
      else outcomes.push({ url: item.url, kind: item.existing ? 'existing' : 'accepted', archive: item.archive });
    }
  }
  return outcomes;
}

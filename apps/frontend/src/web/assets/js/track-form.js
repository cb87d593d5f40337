// "Track a repository": one URL and, optionally, a pinned interval and (under "Private
// repository") a credential. 201 = tracked from now on (first visit queued), 200 = already
// tracked by you; refusals (4xx) appear next to the field they are about.
import { card, notice } from './components.js';
import { credentialFields, credentialProblem, enterAgain } from './credential-fields.js';
import { h, mount, uid } from './dom.js';
import { shortUrl } from './format.js';
import { repositoryUrlKind, repositoryUrlProblem } from './repository-url.js';

export function trackForm(ctx, onTracked) {
  const urlId = uid('track-url');
  const intervalId = uid('track-interval');
  const errorId = uid('track-error');
  const url = h('input', {
    id: urlId,
    name: 'url',
    // Not type=url: SSH addresses such as git@host:owner/repo.git are not URLs to the browser.
    type: 'text',
    inputmode: 'url',
    class: 'input',
    required: true,
    spellcheck: 'false',
    autocapitalize: 'off',
    autocomplete: 'off',
    placeholder: 'https://github.com/owner/repository.git or git@host:owner/repository.git',
    'aria-describedby': errorId,
  });
  const credential = credentialFields({ urlKind: () => repositoryUrlKind(url.value.trim()) });
  const privateRepository = h(
    'details',
    { class: 'credential-disclosure', 'data-testid': 'private-repository' },
    h('summary', {}, 'Private repository'),
    h('p', { class: 'hint' }, 'Give a credential if the repository needs one to be read; SSH addresses always do.'),
    credential.element,
  );
  privateRepository.addEventListener('toggle', () => {
    if (privateRepository.open) credential.matchUrl();
  });
  const interval = h('input', {
    id: intervalId,
    name: 'intervalHours',
    type: 'number',
    min: '1',
    max: '8760',
    step: '1',
    class: 'input input-narrow',
    placeholder: 'adaptive',
  });
  const fieldError = h('p', { id: errorId, class: 'field-error', hidden: true, 'data-testid': 'track-error' });
  const submit = h('button', { type: 'submit', class: 'button button-primary' }, 'Track');
  const result = h('div', { 'data-testid': 'track-result' });

  const form = h(
    'form',
    { class: 'track-form', novalidate: true },
    h(
      'div',
      { class: 'track-fields' },
      h('div', { class: 'track-field-url' }, h('label', { for: urlId, class: 'label' }, 'Repository URL'), url, fieldError),
      h(
        'div',
        { class: 'track-field-interval' },
        h('label', { for: intervalId, class: 'label' }, 'Hours between visits'),
        interval,
        h('p', { class: 'hint' }, 'Empty: adapts to how often it changes.'),
      ),
    ),
    privateRepository,
    h('div', { class: 'form-actions' }, submit),
    result,
  );

  function setFieldError(message) {
    fieldError.textContent = message;
    fieldError.hidden = !message;
    if (message) url.setAttribute('aria-invalid', 'true');
    else url.removeAttribute('aria-invalid');
  }
  url.addEventListener('input', () => setFieldError(''));
  url.addEventListener('change', () => {
    // An SSH address cannot be read without a key: open the credential fields for it.
    if (repositoryUrlKind(url.value.trim()) === 'ssh') privateRepository.open = true;
    if (privateRepository.open) credential.matchUrl();
  });

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    mount(result);
    const value = url.value.trim();
    const problem = repositoryUrlProblem(value);
    if (problem) {
      setFieldError(problem);
      url.focus();
      return;
    }
    let secret;
    if (privateRepository.open) {
      const read = credential.read();
      if (read.error) {
        credential.setError(read.error);
        (read.focus ?? url).focus();
        return;
      }
      secret = read.credential;
    }
    const hours = interval.value.trim() === '' ? undefined : Number(interval.value);
    submit.disabled = true;
    submit.textContent = 'Tracking…';
    form.setAttribute('aria-busy', 'true');
    try {
      const request = ctx.api.trackRepository(value, hours, secret);
      // Sent: the secret leaves the page's inputs whatever the answer (typed again to retry).
      secret = undefined;
      credential.clear();
      const repository = await request;
      const link = h('a', { href: `/repositories/${encodeURIComponent(repository.id)}` }, shortUrl(repository.url));
      mount(
        result,
        repository.existing
          ? notice('info', 'You already track ', link, '; nothing changed.')
          : notice('success', 'Now tracking ', link, '. Its first visit is queued.'),
      );
      result.firstElementChild.dataset.existing = String(repository.existing);
      url.value = '';
      interval.value = '';
      privateRepository.open = false;
      await onTracked(repository);
    } catch (error) {
      // The request was refused (bad URL, policy, bad interval): say so beside the field.
      const aboutCredential = credentialProblem(error.code, error.message);
      if (aboutCredential && privateRepository.open) {
        credential.setError(enterAgain(aboutCredential));
        credential.focus();
      } else if (error.status >= 400 && error.status < 500) {
        setFieldError(error.message);
        url.focus();
      } else mount(result, notice('error', `Could not track it: ${error.message}`));
    } finally {
      submit.disabled = false;
      submit.textContent = 'Track';
      form.removeAttribute('aria-busy');
    }
  });

  return card('Track a repository', form);
}

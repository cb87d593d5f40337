// "Track a repository": one URL and, optionally, a pinned interval. 201 = tracked from now on
// (first visit queued), 200 = already tracked by you; refusals (4xx) appear next to the field.
import { card, notice } from './components.js';
import { h, mount, uid } from './dom.js';
import { shortUrl } from './format.js';

export function trackForm(ctx, onTracked) {
  const urlId = uid('track-url');
  const intervalId = uid('track-interval');
  const errorId = uid('track-error');
  const url = h('input', {
    id: urlId,
    name: 'url',
    type: 'url',
    class: 'input',
    required: true,
    spellcheck: 'false',
    autocapitalize: 'off',
    autocomplete: 'off',
    placeholder: 'https://github.com/owner/repository.git',
    'aria-describedby': errorId,
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

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    mount(result);
    const value = url.value.trim();
    if (!value) {
      setFieldError('Enter the URL of a git repository.');
      url.focus();
      return;
    }
    const hours = interval.value.trim() === '' ? undefined : Number(interval.value);
    submit.disabled = true;
    submit.textContent = 'Tracking…';
    form.setAttribute('aria-busy', 'true');
    try {
      const repository = await ctx.api.trackRepository(value, hours);
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
      await onTracked(repository);
    } catch (error) {
      // The request was refused (bad URL, policy, bad interval): say so beside the field.
      if (error.status >= 400 && error.status < 500) {
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

// "Retry" for a failed archive: submits its URL again, which records a new archive (the
// failed one stays as it was, with its reason). On the detail page the new archive opens; in
// a list (`onRetried`) the list refreshes instead, where the new row appears. If the person
// already has an active archive of the repository, the API returns that one.
import { notice } from './components.js';
import { h, mount } from './dom.js';
import { shortUrl } from './format.js';

export function retryButton(ctx, archive, { onRetried, small = false } = {}) {
  const problem = h('div');
  const button = h(
    'button',
    {
      type: 'button',
      class: `button ${small ? 'button-secondary button-small' : 'button-primary'}`,
      'data-testid': 'retry',
      'aria-label': small ? `Retry the archive of ${shortUrl(archive.url)}` : undefined,
    },
    'Retry',
  );
  button.addEventListener('click', async () => {
    button.disabled = true;
    button.textContent = 'Retrying…';
    mount(problem);
    try {
      const next = await ctx.api.submit(archive.url);
      if (onRetried) await onRetried(next);
      else ctx.navigate(`/archives/${encodeURIComponent(next.id)}`);
    } catch (error) {
      mount(problem, notice('error', `Could not retry: ${error.message}`));
    } finally {
      if (button.isConnected) {
        button.disabled = false;
        button.textContent = 'Retry';
      }
    }
  });
  return h('div', { class: small ? 'retry retry-inline' : 'retry' }, button, problem);
}

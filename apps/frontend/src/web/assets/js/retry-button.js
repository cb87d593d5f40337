// "Retry" for a failed archive: submits its URL again, which records a new archive (the
// failed one stays as it was, with its reason), and opens the new one. If the person already
// has an active archive of the repository, the API returns that one and it opens instead.
import { notice } from './components.js';
import { h, mount } from './dom.js';

export function retryButton(ctx, archive) {
  const problem = h('div');
  const button = h('button', { type: 'button', class: 'button button-primary', 'data-testid': 'retry' }, 'Retry');
  button.addEventListener('click', async () => {
    button.disabled = true;
    button.textContent = 'Retrying…';
    mount(problem);
    try {
      const next = await ctx.api.submit(archive.url);
      ctx.navigate(`/archives/${encodeURIComponent(next.id)}`);
    } catch (error) {
      mount(problem, notice('error', `Could not retry: ${error.message}`));
      button.disabled = false;
      button.textContent = 'Retry';
    }
  });
  return h('div', { class: 'retry' }, button, problem);
}

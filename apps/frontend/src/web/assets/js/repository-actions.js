// The buttons a tracked repository offers on the list and on its own page: "Archive now" and
// Pause / Resume. Each reports into `say(kind, text)`; both call `onDone()` so the caller reloads.
import { h } from './dom.js';
import { shortUrl } from './format.js';

/** "in 4 min 10 s" for a Retry-After in seconds. */
export function waitText(seconds) {
  if (!seconds || seconds <= 0) return 'in a moment';
  if (seconds < 60) return `in ${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  const rest = seconds % 60;
  return rest === 0 ? `in ${minutes} min` : `in ${minutes} min ${rest} s`;
}

function busy(button, text) {
  const idle = button.textContent;
  button.disabled = true;
  button.textContent = text;
  return () => {
    button.disabled = false;
    button.textContent = idle;
  };
}

export function archiveNowButton(ctx, repository, { say, onDone, small = true }) {
  const name = shortUrl(repository.url);
  const button = h(
    'button',
    {
      type: 'button',
      class: `button button-secondary${small ? ' button-small' : ''}`,
      'data-action': 'archive-now',
      'aria-label': small ? `Archive ${name} now` : undefined,
    },
    'Archive now',
  );
  button.addEventListener('click', async () => {
    const done = busy(button, 'Queuing…');
    try {
      const visit = await ctx.api.visitRepository(repository.id);
      say('success', `A visit of ${name} is queued (archive ${visit.id.slice(0, 8)}).`, visit);
    } catch (error) {
      // The cooldown is not a failure: say politely when asking again will work.
      if (error.status === 429)
        say('warning', `${name} was visited moments ago; a new visit can be queued ${waitText(error.retryAfterSeconds)}.`);
      else say('error', `Could not queue a visit of ${name}: ${error.message}`);
    } finally {
      done();
    }
    await onDone?.();
  });
  return button;
}

export function pauseResumeButton(ctx, repository, { say, onDone, small = true }) {
  const name = shortUrl(repository.url);
  const resume = repository.state !== 'active';
  const label = repository.state === 'disabled' ? 'Re-enable' : resume ? 'Resume' : 'Pause';
  const button = h(
    'button',
    {
      type: 'button',
      class: `button button-quiet${small ? ' button-small' : ''}`,
      'data-action': resume ? 'resume' : 'pause',
      'aria-label': small ? `${label} ${name}` : undefined,
    },
    label,
  );
  button.addEventListener('click', async () => {
    const done = busy(button, resume ? 'Resuming…' : 'Pausing…');
    try {
      await ctx.api.updateRepository(repository.id, { state: resume ? 'active' : 'paused' });
      say('success', resume ? `${name} is visited on schedule again.` : `${name} is paused: no scheduled visits until you resume it.`);
    } catch (error) {
      say('error', `Could not ${resume ? 'resume' : 'pause'} ${name}: ${error.message}`);
    } finally {
      done();
    }
    await onDone?.();
  });
  return button;
}

// Pages that are a message: signed out, not allowed, not found, sign-in unavailable.
import { h, mount, svg } from '../dom.js';

const ICONS = {
  info: ['M8 12.5l2.8 2.8L16.5 9.5'],
  stop: ['M7.5 12h9'],
  error: ['M12 7.5v5.5', 'M12 16.2v.3'],
};

function icon(tone) {
  return svg(
    'svg',
    {
      viewBox: '0 0 24 24',
      width: '28',
      height: '28',
      fill: 'none',
      stroke: 'currentColor',
      'stroke-width': '2.2',
      'stroke-linecap': 'round',
      'stroke-linejoin': 'round',
    },
    svg('circle', { cx: '12', cy: '12', r: '9.5' }),
    ICONS[tone].map((d) => svg('path', { d })),
  );
}

function messagePage(view, { title, text, actions = [], tone = 'info' }) {
  mount(
    view,
    h(
      'div',
      { class: `message-page message-${tone}` },
      h('div', { class: 'message-icon', 'aria-hidden': 'true' }, icon(tone)),
      h('h1', {}, title),
      text.map((paragraph) => h('p', {}, paragraph)),
      actions.length ? h('p', { class: 'message-actions' }, actions) : null,
    ),
  );
}

export function signedOutPage(main) {
  document.title = 'Signed out · Repository Archiver';
  const view = h('div', { class: 'page page-centered' });
  mount(main, view);
  messagePage(view, {
    title: 'You are signed out',
    text: ['Your Repository Archiver session and your Keycloak single sign-on session have ended.'],
    actions: [h('a', { href: '/', class: 'button button-primary' }, 'Sign in again')],
  });
}

export function startFailedPage(main) {
  document.title = 'Sign-in unavailable · Repository Archiver';
  const view = h('div', { class: 'page page-centered' });
  mount(main, view);
  const retry = h('button', { type: 'button', class: 'button button-primary', onClick: () => window.location.reload() }, 'Try again');
  messagePage(view, {
    tone: 'error',
    title: 'Sign-in is unavailable',
    text: [
      'The sign-in service (Keycloak) could not be reached, so your archives cannot be shown right now.',
      'Try again in a moment; if it keeps failing, tell the person who runs this archiver.',
    ],
    actions: [retry],
  });
}

export function notAllowedPage(view, ctx) {
  ctx.setTitle('Not allowed');
  view.dataset.testid = 'not-allowed';
  messagePage(view, {
    tone: 'stop',
    title: 'Not allowed',
    text: [
      [
        'The admin page is only for administrators (role ',
        h('code', { class: 'nowrap' }, 'archiver-admin'),
        `). You are signed in as ${ctx.session.username}, who is not one.`,
      ],
      'Ask an administrator if you need an archive deleted.',
    ],
    actions: [h('a', { href: '/archives', class: 'button button-primary' }, 'Back to your archives')],
  });
}

export function notFoundPage(view, ctx) {
  ctx.setTitle('Page not found');
  messagePage(view, {
    tone: 'error',
    title: 'Page not found',
    text: ['There is no page at this address.'],
    actions: [h('a', { href: '/archives', class: 'button button-primary' }, 'Go to your archives')],
  });
}

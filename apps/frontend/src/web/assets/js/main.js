// Entry point: the signed-out page needs nobody; every other page signs in first (Keycloak,
// PKCE), then draws the header and hands over to the router.
import { signIn } from './auth.js';
import { createApi } from './api.js';
import { h, mount } from './dom.js';
import { clearDraft } from './draft.js';
import { signedOutPage, startFailedPage } from './pages/messages.js';
import { startRouter } from './router.js';

const NAV = [
  { id: 'repositories', href: '/', label: 'Repositories' },
  { id: 'archives', href: '/archives', label: 'Archives' },
  { id: 'stats', href: '/stats', label: 'Statistics' },
  { id: 'imports', href: '/imports', label: 'Imports' },
  { id: 'webhooks', href: '/webhooks', label: 'Webhooks' },
  { id: 'admin', href: '/admin', label: 'Admin', adminOnly: true },
  // Not a page of this app: the OpenAPI document and Swagger UI, which signs in on its own.
  { id: 'api', href: '/api/docs', label: 'API', external: true },
];

export function logo() {
  return h(
    'span',
    { class: 'brand-mark', 'aria-hidden': 'true' },
    h('img', { src: '/assets/favicon.svg', alt: '', width: '28', height: '28' }),
  );
}

function renderHeader(topbar, session) {
  const links = NAV.filter((item) => !item.adminOnly || session.isAdmin).map((item) =>
    h('a', { href: item.href, class: 'nav-link', dataset: item.external ? { nav: item.id, external: '' } : { nav: item.id } }, item.label),
  );
  const initials = session.displayName
    .split(/\s+/)
    .map((part) => part[0])
    .join('')
    .slice(0, 2)
    .toUpperCase();
  const logout = h('button', { type: 'button', class: 'button button-quiet', id: 'logout' }, 'Log out');
  logout.addEventListener('click', () => {
    logout.disabled = true;
    logout.textContent = 'Signing out…';
    // Whoever signs in next in this tab must not find this person's unsent URLs.
    clearDraft();
    void session.signOut();
  });
  mount(
    topbar,
    h(
      'div',
      { class: 'topbar-inner' },
      h('a', { href: '/', class: 'brand' }, logo(), h('span', { class: 'brand-name' }, 'Repository Archiver')),
      h('nav', { class: 'nav', 'aria-label': 'Main' }, links),
      h(
        'div',
        { class: 'user', 'data-testid': 'user' },
        h('span', { class: 'avatar', 'aria-hidden': 'true' }, initials),
        h(
          'span',
          { class: 'user-text' },
          h('span', { class: 'user-name', 'data-testid': 'user-name' }, session.displayName),
          h(
            'span',
            { class: `role role-${session.isAdmin ? 'admin' : 'user'}`, 'data-testid': 'user-role' },
            h('span', { class: 'visually-hidden' }, 'Role: '),
            session.roleLabel,
          ),
        ),
        logout,
      ),
    ),
  );
  topbar.hidden = false;
  return (active) => {
    for (const link of topbar.querySelectorAll('[data-nav]')) {
      if (link.dataset.nav === active) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
  };
}

/**
 * The skip link moves focus to the main content itself. Left to the browser, `#main` would
 * also be a same-page link the router has to ignore, and would put `#main` into the address
 * that keycloak-js reads its sign-in answer from.
 */
function wireSkipLink(main) {
  document.querySelector('.skip-link')?.addEventListener('click', (event) => {
    event.preventDefault();
    main.setAttribute('tabindex', '-1');
    main.focus();
  });
}

async function start() {
  const main = document.getElementById('main');
  wireSkipLink(main);
  if (window.location.pathname.replace(/\/+$/, '') === '/signed-out') {
    signedOutPage(main);
    return;
  }
  let config;
  let session;
  try {
    const response = await fetch('/config.json', { cache: 'no-store' });
    if (!response.ok) throw new Error(`/config.json answered ${response.status}`);
    config = await response.json();
    session = await signIn(config);
  } catch (error) {
    console.error('sign-in failed', error);
    startFailedPage(main);
    return;
  }
  const api = createApi(config.apiBase, session);
  const markActive = renderHeader(document.getElementById('topbar'), session);
  startRouter({ main, api, session, onNavigate: markActive });
}

void start();
